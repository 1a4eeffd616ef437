import { registerEnumType } from "type-graphql";
import { BOOKING_EVENT_TYPES, BOOKING_STATUSES, SLOT_STATUSES } from "../domain/booking-lifecycle";

function enumOf<const T extends readonly string[]>(values: T): { [K in T[number]]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T[number]]: K };
}

export const Role = enumOf(["CUSTOMER", "PROVIDER", "ADMIN"] as const);
export type Role = keyof typeof Role;
export const SlotStatus = enumOf(SLOT_STATUSES);
export type SlotStatus = keyof typeof SlotStatus;
export const BookingStatus = enumOf(BOOKING_STATUSES);
export type BookingStatus = keyof typeof BookingStatus;
export const BookingEventType = enumOf(BOOKING_EVENT_TYPES);
export type BookingEventType = keyof typeof BookingEventType;

registerEnumType(Role, { name: "Role" });
registerEnumType(SlotStatus, { name: "SlotStatus" });
registerEnumType(BookingStatus, { name: "BookingStatus" });
registerEnumType(BookingEventType, { name: "BookingEventType" });
