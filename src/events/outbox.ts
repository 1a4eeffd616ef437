import type { DbOrTx } from "../db/client";
import { outbox } from "../db/schema";
import type { BookingEventEnvelope } from "./envelope";
import type { BookingEventMessage } from "./pubsub";

/**
 * What an outbox row is written from: an envelope, or an envelope with the booking as it is right
 * after the event (the live message), which the event log then serves as the event's `booking`.
 */
export type OutboxEntry = BookingEventEnvelope | BookingEventMessage;

/**
 * Appends events to the transactional outbox. Must be called with the transaction
 * that made the change, so the change and its events commit or roll back together.
 */
export async function appendToOutbox(tx: DbOrTx, events: readonly OutboxEntry[]): Promise<void> {
  const statement = buildOutboxInsert(tx, events);
  if (statement) await statement;
}

/**
 * The INSERT that appends `events` (in order: their outbox ids follow it), built but not run, for
 * `executeTogether` with the change's other writes; undefined when there are none.
 */
export function buildOutboxInsert(tx: DbOrTx, events: readonly OutboxEntry[]) {
  if (events.length === 0) return undefined;
  return tx.insert(outbox).values(
    events.map((entry) => {
      const e = "event" in entry ? entry.event : entry;
      return { eventId: e.eventId, eventType: e.eventType, bookingId: e.bookingId, payload: e, booking: "event" in entry ? entry.booking : null };
    }),
  );
}
