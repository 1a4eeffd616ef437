import type { Tx } from "../db/client";
import { buildStatusChangesInsert } from "../db/repositories/booking.repository";
import { executeTogether } from "../db/statements";
import type { BookingRow, SlotRow } from "../db/schema";
import type { BookingEventType, BookingStatus } from "../domain/booking-lifecycle";
import { buildEnvelope } from "../events/envelope";
import { buildOutboxInsert } from "../events/outbox";
import type { BookingEventMessage } from "../events/pubsub";
import { toBookingSnapshot } from "../events/snapshots";

/** One status change of a booking, as it is recorded. */
export interface RecordedChange {
  eventType: BookingEventType;
  /** Status before the change; null for creation. */
  from: BookingStatus | null;
  /** Status after the change. */
  to: BookingStatus;
  /** User who caused it; null for the system. */
  actorId: string | null;
  reason: string | null;
  /** Type-specific envelope fields (e.g. the previous slot of a reschedule). */
  extra?: Parameters<typeof buildEnvelope>[2]["extra"];
  /** False for events that are not status transitions (reminders): no history row. */
  transition?: boolean;
}

/**
 * Writes the history rows and outbox events for `changes` (in order) inside `tx`, and
 * returns the live messages to publish once `tx` has committed. Every state change of a
 * booking goes through here, so history, outbox and live updates cannot drift apart.
 *
 * Called by the unit of work (`ChangeSet.recordBooking`, src/services/unit-of-work.ts).
 *
 * @param booking - the booking row after all `changes`
 * @param slot - the booking's slot (its times go into the envelope)
 * @param at - commit instant (UTC)
 * @param requestId - the API request that caused the changes, if any (into each envelope)
 */
export async function recordBookingChanges(
  tx: Tx,
  booking: BookingRow,
  slot: Pick<SlotRow, "startsAt" | "endsAt">,
  changes: readonly RecordedChange[],
  { at, requestId }: { at: Date; requestId: string | undefined },
): Promise<BookingEventMessage[]> {
  const history = buildStatusChangesInsert(
    tx,
    changes
      .filter((c) => c.transition !== false)
      .map((c) => ({ bookingId: booking.id, fromStatus: c.from, toStatus: c.to, actorId: c.actorId, reason: c.reason, at })),
  );
  const messages = changes.map((c) => {
    const snapshot = { ...booking, status: c.to };
    const event = buildEnvelope(c.eventType, { booking: snapshot, slot }, {
      at,
      previousStatus: c.from,
      actorId: c.actorId,
      reason: c.reason,
      requestId,
      extra: c.extra,
    });
    return { event, booking: toBookingSnapshot(snapshot) };
  });
  // With its booking snapshot, so the event log serves the booking as it was after the event.
  const events = buildOutboxInsert(tx, messages);
  // History and outbox rows in one round trip: they are independent rows of different tables,
  // and round trips to PostgreSQL led the booking path's CPU profile (docs/benchmarks.md).
  await executeTogether(tx, [history, events].filter((s) => s !== undefined));
  return messages;
}
