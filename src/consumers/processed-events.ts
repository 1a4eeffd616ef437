import { processedEvents } from "../db/schema";
import type { Db, Tx } from "../db/client";

/** What {@link handleOnce} did with an event. */
export type HandleOutcome = "handled" | "duplicate";

/**
 * Runs `sideEffect` once per `(consumer, eventId)`, across redeliveries and restarts, using the
 * `processed_events` table as the record of what was handled.
 *
 * Everything happens in one transaction: the marker row is inserted first (`on conflict do
 * nothing`), and only when that insert took effect does `sideEffect` run; the transaction commits
 * after it returns. So:
 * - a duplicate (the marker already committed) returns `"duplicate"` without running `sideEffect`;
 * - a `sideEffect` that throws rolls the marker back and the error propagates, so the redelivered
 *   message is tried again;
 * - on PostgreSQL a concurrent delivery of the same event waits on the marker's primary key until
 *   the first transaction ends, then sees a duplicate (or takes over if the first rolled back).
 *
 * The guarantee is at-least-once, never zero: a crash (or a lost connection) after the side
 * effect has happened but before the commit leaves no marker, so the redelivery performs the side
 * effect a second time. Notifications carry `eventId` so a downstream channel can drop such a
 * repeat. The side effect cannot be made exactly-once here, because it is not part of the
 * database transaction.
 *
 * @param consumer - a stable consumer name; each consumer keeps its own record
 * @param sideEffect - receives the transaction, for side effects that also write to the database
 */
export async function handleOnce(
  db: Db,
  key: { consumer: string; eventId: string },
  sideEffect: (tx: Tx) => Promise<void>,
): Promise<HandleOutcome> {
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(processedEvents)
      .values({ consumer: key.consumer, eventId: key.eventId })
      .onConflictDoNothing()
      .returning({ eventId: processedEvents.eventId });
    if (inserted.length === 0) return "duplicate";
    await sideEffect(tx);
    return "handled";
  });
}
