import { encodeCursor, type Page } from "../db/cursor";
import type { BookingEventMessage, SlotSnapshot } from "../events/pubsub";
import type { Booking, BookingEvent } from "../schema/booking.type";
import type { Slot } from "../schema/slot.type";

/** Maps a keyset page to a Relay connection; cursors encode (createdAt, id). */
export function toConnection<T extends { id: string; createdAt: Date }>(page: Page<T>) {
  const edges = page.items.map((node) => ({ cursor: encodeCursor(node), node }));
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}

/** Live payload (plain JSON) to the GraphQL `BookingEvent`. */
export function toBookingEvent(message: BookingEventMessage): BookingEvent {
  const b = message.booking;
  const booking: Booking = {
    ...b,
    createdAt: new Date(b.createdAt),
    updatedAt: new Date(b.updatedAt),
    holdExpiresAt: b.holdExpiresAt ? new Date(b.holdExpiresAt) : null,
  };
  return {
    eventId: message.event.eventId,
    eventType: message.event.eventType,
    occurredAt: new Date(message.event.timestamp),
    previousStatus: message.event.previousStatus,
    booking,
  };
}

export function toSlot(s: SlotSnapshot): Slot {
  return { ...s, startsAt: new Date(s.startsAt), endsAt: new Date(s.endsAt) };
}
