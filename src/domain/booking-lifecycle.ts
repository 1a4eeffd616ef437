import type { BookingEventType, BookingStatus, SlotStatus } from "./enums";
import { ConflictError } from "./errors";

// The enumerations are declared once in ./enums; re-exported here for the lifecycle's callers.
export { BOOKING_EVENT_TYPES, BOOKING_STATUSES, SLOT_STATUSES } from "./enums";
export type { BookingEventType, BookingStatus, SlotStatus } from "./enums";

/** The lifecycle operations that change a booking's status. */
export type BookingAction = "accept" | "reject" | "cancel" | "expire";

/** Statuses that keep a slot occupied; at most one booking per slot may be in one. */
export const ACTIVE_STATUSES: readonly BookingStatus[] = ["PENDING", "CONFIRMED"];

const TRANSITIONS: Record<BookingAction, { from: readonly BookingStatus[]; to: BookingStatus; event: BookingEventType }> = {
  accept: { from: ["PENDING"], to: "CONFIRMED", event: "BOOKING_CONFIRMED" },
  reject: { from: ["PENDING"], to: "REJECTED", event: "BOOKING_REJECTED" },
  cancel: { from: ["PENDING", "CONFIRMED"], to: "CANCELLED", event: "BOOKING_CANCELLED" },
  expire: { from: ["PENDING"], to: "EXPIRED", event: "BOOKING_EXPIRED" },
};

/** The result of a permitted transition. */
export interface Transition {
  from: BookingStatus;
  to: BookingStatus;
  event: BookingEventType;
  /** What the booking's slot becomes. */
  slotStatus: SlotStatus;
}

/** True when `status` keeps its slot occupied. */
export function isActive(status: BookingStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** The slot statuses of an occupied slot: what an active booking makes its slot. */
export type OccupiedSlotStatus = "HELD" | "BOOKED";
export const OCCUPIED_SLOT_STATUSES: readonly OccupiedSlotStatus[] = ["HELD", "BOOKED"];

/**
 * The occupancy rule, the only one: an active booking occupies its slot, which is HELD while
 * the booking is PENDING and BOOKED once it is CONFIRMED; a booking in any other status
 * occupies nothing (undefined), and its slot goes back on sale. `src/services/slot-occupancy.ts`
 * applies it; the partial unique index `bookings_one_active_per_slot` backs it.
 */
export function occupancyOf(status: BookingStatus): OccupiedSlotStatus | undefined {
  if (!isActive(status)) return undefined;
  return status === "PENDING" ? "HELD" : "BOOKED";
}

/**
 * Decides a lifecycle transition.
 *
 * PENDING -> CONFIRMED | REJECTED | EXPIRED | CANCELLED; CONFIRMED -> CANCELLED.
 * Terminal states (REJECTED, CANCELLED, EXPIRED) allow nothing.
 *
 * @throws ConflictError with reason `INVALID_TRANSITION` when `action` is not allowed from `from`.
 */
export function decideTransition(from: BookingStatus, action: BookingAction): Transition {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(from)) {
    throw new ConflictError("INVALID_TRANSITION", `Cannot ${action} a booking that is ${from}`);
  }
  return { from, to: rule.to, event: rule.event, slotStatus: occupancyOf(rule.to) ?? "AVAILABLE" };
}

/**
 * Status of a new booking and its slot: a provider that does not require
 * confirmation confirms at once (the slot is BOOKED); otherwise the booking is
 * PENDING and holds the slot (HELD) until `holdExpiresAt`.
 *
 * @param now - creation instant (UTC)
 * @param holdMinutes - hold length in minutes (config `BOOKING_HOLD_MINUTES`)
 */
export function initialState(
  requiresConfirmation: boolean,
  now: Date,
  holdMinutes: number,
): { status: BookingStatus; slotStatus: OccupiedSlotStatus; holdExpiresAt: Date | null } {
  if (!requiresConfirmation) return { status: "CONFIRMED", slotStatus: occupancyOf("CONFIRMED")!, holdExpiresAt: null };
  return { status: "PENDING", slotStatus: occupancyOf("PENDING")!, holdExpiresAt: new Date(now.getTime() + holdMinutes * 60_000) };
}

/** True when a PENDING booking's hold has run out at `now`. */
export function isHoldLapsed(status: BookingStatus, holdExpiresAt: Date | null, now: Date): boolean {
  return status === "PENDING" && holdExpiresAt !== null && holdExpiresAt.getTime() <= now.getTime();
}
