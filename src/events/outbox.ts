import type { DbOrTx } from "../db/client";
import { outbox } from "../db/schema";
import type { BookingEventEnvelope } from "./envelope";

/**
 * Appends events to the transactional outbox. Must be called with the transaction
 * that made the change, so the change and its events commit or roll back together.
 */
export async function appendToOutbox(tx: DbOrTx, events: readonly BookingEventEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  await tx.insert(outbox).values(
    events.map((e) => ({ eventId: e.eventId, eventType: e.eventType, bookingId: e.bookingId, payload: e })),
  );
}
