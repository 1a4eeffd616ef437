import { and, asc, eq, inArray, isNotNull, lt, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../client";
import type { EventLogPosition } from "../event-cursor";
import { bookings, outbox } from "../schema";
import { outboxWebhooksSettled } from "./webhook-delivery.repository";

/** Whose events to read: one booking's, or every booking's of one provider. */
export type EventLogScope = { bookingId: string } | { providerId: string };

/** One committed event as the log holds it. */
export interface LoggedEventRow {
  position: EventLogPosition;
  /** The envelope (`BookingEventEnvelope`), as sent to SQS. */
  payload: unknown;
  /** The booking right after the event (`BookingSnapshot`), when its writer stored one. */
  booking: unknown;
  /** The booking as it is now, for rows without a stored snapshot; null if it is gone. */
  currentBooking: typeof bookings.$inferSelect | null;
}

/** What one read of the log found. */
export interface LoggedEventsRead {
  /** Events below the horizon, in log order: safe to hand out. */
  rows: LoggedEventRow[];
  /**
   * True when committed events of the scope exist after `rows` that are not below the horizon
   * yet (an older transaction, anywhere on the server, is still running): read again shortly.
   */
  heldBack: boolean;
}

/**
 * Committed events of `scope` after `after` (exclusive), in log order (xactId, id), at most `limit`.
 *
 * Only rows whose `xact_id` is below this statement's snapshot xmin are returned: every
 * transaction with a smaller id has ended, so the snapshot sees all rows they committed, and any
 * row that becomes visible later (its transaction still running or not yet begun) has a
 * larger xact_id (the trigger of drizzle/0011 never sets it below the inserting transaction's id)
 * and so sorts after every position returned here. A cursor therefore never skips an event,
 * although outbox ids are taken at insert and transactions commit in another order.
 * (PostgreSQL manual, 9.27 "Transaction ID and Snapshot Information Functions".) The horizon
 * is the whole server's: a long transaction in any database holds new events back (never loses them).
 *
 * Must not run inside a transaction that wrote outbox rows: its own rows stay above the horizon.
 */
export async function listLoggedEvents(
  db: DbOrTx,
  opts: { scope: EventLogScope; after?: EventLogPosition; limit: number },
): Promise<LoggedEventsRead> {
  const scope = "bookingId" in opts.scope ? eq(outbox.bookingId, opts.scope.bookingId) : eq(outbox.providerId, opts.scope.providerId);
  // The horizon is read in the same statement, hence from the same snapshot, as the rows. Rows at
  // or above it sort after every row below it, so cutting at the first one keeps a gapless prefix.
  const rows = await db
    .select({
      xactId: outbox.xactId,
      id: outbox.id,
      payload: outbox.payload,
      booking: outbox.booking,
      currentBooking: bookings,
      horizon: sql<string>`pg_snapshot_xmin(pg_current_snapshot())::text`,
    })
    .from(outbox)
    .leftJoin(bookings, eq(bookings.id, outbox.bookingId))
    .where(and(scope, opts.after ? sql`(${outbox.xactId}, ${outbox.id}) > (${opts.after.xactId}::xid8, ${opts.after.id}::bigint)` : undefined))
    .orderBy(asc(outbox.xactId), asc(outbox.id))
    .limit(opts.limit);
  const below = rows.filter((r) => BigInt(r.xactId) < BigInt(r.horizon));
  return {
    rows: below.map((r) => ({ position: { xactId: r.xactId, id: r.id }, payload: r.payload, booking: r.booking, currentBooking: r.currentBooking })),
    heldBack: below.length < rows.length,
  };
}

/**
 * THE pruning predicate: the one rule for "this event has been delivered everywhere, and before
 * `before`": published to every SQS queue it routes to (the relay sets `published_at` only once
 * all of them accepted it) before that instant, and fanned out to the webhook endpoints with no
 * delivery of it still PENDING (`outboxWebhooksSettled`).
 */
export function deliveredEverywhereBefore(before: Date): SQL {
  return and(
    isNotNull(outbox.publishedAt),
    lt(outbox.publishedAt, before),
    // Every sink that must see an event before it may be pruned adds its condition here;
    // nothing else decides what is prunable.
    outboxWebhooksSettled(),
  )!;
}

/**
 * Deletes up to `limit` events delivered everywhere before `deliveredBefore` (oldest first).
 * Rows another pruner is deleting are skipped (`SKIP LOCKED`), so several instances may run it.
 * Unpublished rows are never touched, so the relay's claims are unaffected.
 *
 * @returns how many rows were deleted
 */
export async function pruneDeliveredEvents(db: DbOrTx, opts: { deliveredBefore: Date; limit: number }): Promise<number> {
  const doomed = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(deliveredEverywhereBefore(opts.deliveredBefore))
    .orderBy(asc(outbox.publishedAt))
    .limit(opts.limit)
    .for("update", { skipLocked: true });
  const deleted = await db.delete(outbox).where(inArray(outbox.id, doomed)).returning({ id: outbox.id });
  return deleted.length;
}
