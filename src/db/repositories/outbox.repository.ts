import { and, asc, count, eq, inArray, isNull, lt, min, notExists, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { DbOrTx } from "../client";
import { outbox, type OutboxRow } from "../schema";

const earlier = alias(outbox, "earlier");

/**
 * Claims up to `limit` unpublished events for one relay by giving them a lease until
 * `leaseUntil`. Rows are locked with `FOR UPDATE SKIP LOCKED`, so relays in several
 * processes never claim the same row. An event is claimable only when no earlier event of
 * the same booking is still unpublished: that keeps each booking's events in commit order
 * on every queue even with several relays, at the cost of one event per booking per batch.
 *
 * @param now - current instant; expired leases (a relay that died) are claimable again
 * @returns the claimed rows in id (commit) order
 */
export async function claimOutboxBatch(db: DbOrTx, opts: { limit: number; now: Date; leaseUntil: Date }): Promise<OutboxRow[]> {
  const candidates = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(
      and(
        isNull(outbox.publishedAt),
        or(isNull(outbox.claimedUntil), lt(outbox.claimedUntil, opts.now)),
        notExists(
          db
            .select({ one: sql`1` })
            .from(earlier)
            .where(and(eq(earlier.bookingId, outbox.bookingId), isNull(earlier.publishedAt), lt(earlier.id, outbox.id))),
        ),
      ),
    )
    .orderBy(asc(outbox.id))
    .limit(opts.limit)
    .for("update", { skipLocked: true });
  const rows = await db
    .update(outbox)
    .set({ claimedUntil: opts.leaseUntil, attempts: sql`${outbox.attempts} + 1` })
    .where(inArray(outbox.id, candidates))
    .returning();
  return rows.sort((a, b) => a.id - b.id);
}

/** Marks events as published on every queue they were routed to, ending their lease. */
export async function markOutboxPublished(db: DbOrTx, ids: readonly number[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(outbox)
    .set({ publishedAt: at, claimedUntil: null, lastError: null })
    .where(inArray(outbox.id, [...ids]));
}

/**
 * Records a partial or failed delivery: the queues that did accept the event are kept (a
 * retry skips them), and the row is held back until `retryAt` so one failing event cannot
 * make the relay spin.
 */
export async function recordOutboxFailure(
  db: DbOrTx,
  id: number,
  opts: { deliveredQueues: readonly string[]; error: string; retryAt: Date },
): Promise<void> {
  await db
    .update(outbox)
    .set({ deliveredQueues: [...opts.deliveredQueues], claimedUntil: opts.retryAt, lastError: opts.error.slice(0, 1000) })
    .where(eq(outbox.id, id));
}

/** Ends the leases of claimed rows without recording anything (e.g. SQS unreachable, or shutting down). */
export async function releaseOutboxClaims(db: DbOrTx, ids: readonly number[], error?: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(outbox)
    .set({ claimedUntil: null, ...(error ? { lastError: error.slice(0, 1000) } : {}) })
    .where(inArray(outbox.id, [...ids]));
}

/** Backlog figures: how many events wait and since when (UTC). */
export async function readOutboxBacklog(db: DbOrTx): Promise<{ pending: number; oldestCreatedAt: Date | null; lastError: string | null }> {
  const [agg] = await db
    .select({ pending: count(), oldest: min(outbox.createdAt) })
    .from(outbox)
    .where(isNull(outbox.publishedAt));
  const [failing] = await db
    .select({ lastError: outbox.lastError })
    .from(outbox)
    .where(and(isNull(outbox.publishedAt), sql`${outbox.lastError} is not null`))
    .orderBy(asc(outbox.id))
    .limit(1);
  const oldest = agg?.oldest ?? null;
  return {
    pending: Number(agg?.pending ?? 0),
    // min() comes back as a string from some drivers; normalise to Date.
    oldestCreatedAt: oldest === null ? null : new Date(oldest as unknown as string),
    lastError: failing?.lastError ?? null,
  };
}
