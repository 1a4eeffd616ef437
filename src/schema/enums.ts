import { registerEnumType } from "type-graphql";
import { BOOKING_EVENT_TYPES, BOOKING_STATUSES, ROLES, SLOT_STATUSES, WEBHOOK_DELIVERY_STATUSES } from "../domain/enums";

/**
 * The GraphQL enums, derived from their one source in src/domain/enums.ts: type-graphql registers
 * an enum from an object whose keys are the value names, so each array becomes `{ V: "V", … }`.
 * Each constant doubles as the TypeScript type of its values.
 */
function enumOf<const T extends readonly string[]>(values: T): { [K in T[number]]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T[number]]: K };
}

export const Role = enumOf(ROLES);
export type Role = keyof typeof Role;
export const SlotStatus = enumOf(SLOT_STATUSES);
export type SlotStatus = keyof typeof SlotStatus;
export const BookingStatus = enumOf(BOOKING_STATUSES);
export type BookingStatus = keyof typeof BookingStatus;
export const BookingEventType = enumOf(BOOKING_EVENT_TYPES);
export type BookingEventType = keyof typeof BookingEventType;
export const WebhookDeliveryStatus = enumOf(WEBHOOK_DELIVERY_STATUSES);
export type WebhookDeliveryStatus = keyof typeof WebhookDeliveryStatus;

registerEnumType(Role, { name: "Role" });
registerEnumType(SlotStatus, { name: "SlotStatus" });
registerEnumType(BookingStatus, { name: "BookingStatus" });
registerEnumType(BookingEventType, { name: "BookingEventType" });
registerEnumType(WebhookDeliveryStatus, {
  name: "WebhookDeliveryStatus",
  valuesConfig: {
    PENDING: { description: "Not yet delivered; nextAttemptAt says when it is tried again." },
    FAILED: { description: "Gave up after the last retry, or the endpoint was disabled." },
  },
});
