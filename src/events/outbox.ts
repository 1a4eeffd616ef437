import type { DbOrTx } from "../db/client";
import { outbox } from "../db/schema";
import type { BookingEventEnvelope } from "./envelope";

/**
 * Appends events to the transactional outbox. Must be called with the transaction
 * that made the change, so the change and its events commit or roll back together.
 */
export async function appendToOutbox(tx: DbOrTx, events: readonly BookingEventEnvelope[]): Promise<void> {
  const statement = buildOutboxInsert(tx, events);
  if (statement) await statement;
}

/**
 * The INSERT that appends `events` (in order: their outbox ids follow it), built but not run, for
 * `executeTogether` with the change's other writes; undefined when there are none.
 */
export function buildOutboxInsert(tx: DbOrTx, events: readonly BookingEventEnvelope[]) {
  if (events.length === 0) return undefined;
  return tx.insert(outbox).values(events.map((e) => ({ eventId: e.eventId, eventType: e.eventType, bookingId: e.bookingId, payload: e })));
}
