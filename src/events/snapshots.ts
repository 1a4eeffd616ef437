import type { BookingRow, SlotRow } from "../db/schema";
import type { BookingSnapshot, SlotSnapshot } from "./pubsub";

/** Plain-JSON copy of a booking row for live payloads (instants as ISO-8601 UTC). */
export function toBookingSnapshot(b: BookingRow): BookingSnapshot {
  return {
    id: b.id,
    status: b.status,
    slotId: b.slotId,
    providerId: b.providerId,
    customerId: b.customerId,
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
    holdExpiresAt: b.holdExpiresAt ? b.holdExpiresAt.toISOString() : null,
    reason: b.reason,
  };
}

/** Plain-JSON copy of a slot row for live payloads. */
export function toSlotSnapshot(s: SlotRow): SlotSnapshot {
  return {
    id: s.id,
    providerId: s.providerId,
    startsAt: s.startsAt.toISOString(),
    endsAt: s.endsAt.toISOString(),
    status: s.status,
  };
}
