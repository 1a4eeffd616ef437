import { and, asc, desc, eq, inArray, isNull, lt, lte, notExists, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { DbOrTx } from "../client";
import type { Page } from "../cursor";
import { outbox, webhookDeliveries, webhookEndpoints, type OutboxRow, type WebhookDeliveryRow } from "../schema";

const earlierEvent = alias(outbox, "earlier_event");
const earlierDelivery = alias(webhookDeliveries, "earlier_delivery");

/** The outbox columns the fan-out needs. */
export type DispatchableEvent = Pick<OutboxRow, "id" | "eventId" | "eventType" | "bookingId" | "payload">;

/**
 * Locks up to `limit` outbox events whose webhook deliveries are not created yet, in id order,
 * with `FOR UPDATE SKIP LOCKED` (workers in several processes never take the same event). An
 * event is taken only when no earlier event of its booking is still waiting: deliveries are then
 * created in commit order per booking, which the delivery claim keeps. Call inside the
 * transaction that creates the deliveries and marks the events.
 */
export async function lockUndispatchedEvents(tx: DbOrTx, limit: number): Promise<DispatchableEvent[]> {
  return tx
    .select({ id: outbox.id, eventId: outbox.eventId, eventType: outbox.eventType, bookingId: outbox.bookingId, payload: outbox.payload })
    .from(outbox)
    .where(
      and(
        isNull(outbox.webhooksDispatchedAt),
        notExists(
          tx
            .select({ one: sql`1` })
            .from(earlierEvent)
            .where(and(eq(earlierEvent.bookingId, outbox.bookingId), isNull(earlierEvent.webhooksDispatchedAt), lt(earlierEvent.id, outbox.id))),
        ),
      ),
    )
    .orderBy(asc(outbox.id))
    .limit(limit)
    .for("update", { skipLocked: true });
}

/** Marks events as fanned out to webhooks. */
export async function markEventsDispatched(tx: DbOrTx, ids: readonly number[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx.update(outbox).set({ webhooksDispatchedAt: at }).where(inArray(outbox.id, [...ids]));
}

/** A delivery to create. */
export interface NewWebhookDelivery {
  endpointId: string;
  outboxId: number;
  eventId: string;
  eventType: string;
  bookingId: string;
}

/**
 * Creates PENDING deliveries, due at `at`, with ids in the order given (one multi-row INSERT
 * takes its serial values row by row).
 */
export async function insertDeliveries(db: DbOrTx, rows: readonly NewWebhookDelivery[], at: Date): Promise<WebhookDeliveryRow[]> {
  const out: WebhookDeliveryRow[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500).map((r) => ({ ...r, nextAttemptAt: at, createdAt: at }));
    out.push(...(await db.insert(webhookDeliveries).values(chunk).returning()));
  }
  return out;
}

/** A claimed delivery with what sending it needs. */
export interface ClaimedDelivery {
  delivery: WebhookDeliveryRow;
  url: string;
  /** Stored form of the endpoint's secret, read at claim time (a rotation applies at once). */
  storedSecret: string;
  /** The outbox envelope; undefined if the event was pruned (it cannot be while PENDING). */
  payload: unknown;
}

/**
 * Claims up to `limit` due PENDING deliveries of enabled endpoints by leasing them until
 * `leaseUntil` (`FOR UPDATE SKIP LOCKED`, like the SQS relay). A delivery is claimable only when no
 * earlier delivery of the same booking to the same endpoint is PENDING: the next waits until the
 * previous one succeeded or was given up. Expired leases (a worker that died) are claimable again.
 */
export async function claimDueDeliveries(db: DbOrTx, opts: { limit: number; now: Date; leaseUntil: Date }): Promise<ClaimedDelivery[]> {
  const d = webhookDeliveries;
  const candidates = db
    .select({ id: d.id })
    .from(d)
    .innerJoin(webhookEndpoints, and(eq(webhookEndpoints.id, d.endpointId), eq(webhookEndpoints.enabled, true)))
    .where(
      and(
        eq(d.status, "PENDING"),
        lte(d.nextAttemptAt, opts.now),
        or(isNull(d.claimedUntil), lt(d.claimedUntil, opts.now)),
        notExists(
          db
            .select({ one: sql`1` })
            .from(earlierDelivery)
            .where(
              and(
                eq(earlierDelivery.endpointId, d.endpointId),
                eq(earlierDelivery.bookingId, d.bookingId),
                eq(earlierDelivery.status, "PENDING"),
                lt(earlierDelivery.id, d.id),
              ),
            ),
        ),
      ),
    )
    .orderBy(asc(d.nextAttemptAt), asc(d.id))
    .limit(opts.limit)
    .for("update", { of: d, skipLocked: true });
  const claimed = await db.update(d).set({ claimedUntil: opts.leaseUntil }).where(inArray(d.id, candidates)).returning({ id: d.id });
  if (claimed.length === 0) return [];
  const rows = await db
    .select({ delivery: d, url: webhookEndpoints.url, storedSecret: webhookEndpoints.secret, payload: outbox.payload })
    .from(d)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, d.endpointId))
    .leftJoin(outbox, eq(outbox.id, d.outboxId))
    .where(inArray(d.id, claimed.map((c) => c.id)))
    .orderBy(asc(d.id));
  return rows.map((r) => ({ ...r, payload: r.payload ?? undefined }));
}

/** The outcome of one attempt, to record on a claimed delivery. */
export interface DeliveryAttempt {
  at: Date;
  status: number | null;
  error: string | null;
  /** SUCCEEDED, FAILED (given up), or PENDING again at `nextAttemptAt`. */
  outcome: { status: "SUCCEEDED" | "FAILED" } | { status: "PENDING"; nextAttemptAt: Date };
}

/**
 * Records an attempt, only while this worker still holds the claim (`leaseUntil` unchanged): a
 * worker that overran its lease does not overwrite the one that took over.
 * @returns false when the claim was lost
 */
export async function recordDeliveryAttempt(db: DbOrTx, id: number, leaseUntil: Date, a: DeliveryAttempt): Promise<boolean> {
  const rows = await db
    .update(webhookDeliveries)
    .set({
      status: a.outcome.status,
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      lastResponseStatus: a.status,
      lastError: a.error === null ? null : a.error.slice(0, 2000),
      lastAttemptAt: a.at,
      nextAttemptAt: a.outcome.status === "PENDING" ? a.outcome.nextAttemptAt : null,
      claimedUntil: null,
    })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, "PENDING"), eq(webhookDeliveries.claimedUntil, leaseUntil)))
    .returning({ id: webhookDeliveries.id });
  return rows.length > 0;
}

/** Gives up PENDING deliveries of disabled endpoints (a delivery created while it was being disabled). */
export async function failDeliveriesOfDisabledEndpoints(db: DbOrTx): Promise<number> {
  const disabled = db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(eq(webhookEndpoints.enabled, false));
  const rows = await db
    .update(webhookDeliveries)
    .set({ status: "FAILED", nextAttemptAt: null, claimedUntil: null, lastError: "endpoint disabled" })
    .where(and(eq(webhookDeliveries.status, "PENDING"), inArray(webhookDeliveries.endpointId, disabled)))
    .returning({ id: webhookDeliveries.id });
  return rows.length;
}

/** An endpoint's deliveries, newest first, before delivery id `beforeId` when given. */
export async function listDeliveriesOfEndpoint(
  db: DbOrTx,
  endpointId: string,
  opts: { limit: number; beforeId?: number },
): Promise<Page<WebhookDeliveryRow>> {
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.endpointId, endpointId), opts.beforeId === undefined ? undefined : lt(webhookDeliveries.id, opts.beforeId)))
    .orderBy(desc(webhookDeliveries.id))
    .limit(opts.limit + 1);
  return { items: rows.slice(0, opts.limit), hasNextPage: rows.length > opts.limit };
}

/** The outbox event with this event id, if it is still kept. */
export async function findOutboxEventByEventId(db: DbOrTx, eventId: string): Promise<DispatchableEvent | undefined> {
  const [row] = await db
    .select({ id: outbox.id, eventId: outbox.eventId, eventType: outbox.eventType, bookingId: outbox.bookingId, payload: outbox.payload })
    .from(outbox)
    .where(eq(outbox.eventId, eventId));
  return row;
}

/**
 * For the event-log pruning (EVENT_RETENTION_DAYS): an SQL condition on the `outbox` table that is
 * true when the row's webhook deliveries are settled, i.e. they have been created and none is
 * PENDING. An outbox row must not be pruned unless this holds.
 */
export function outboxWebhooksSettled(): SQL {
  return sql`(${outbox.webhooksDispatchedAt} is not null and not exists (select 1 from ${webhookDeliveries} where ${webhookDeliveries.outboxId} = ${outbox.id} and ${webhookDeliveries.status} = 'PENDING'))`;
}

/** True while the outbox row `outboxId` still has webhook work: not fanned out yet, or a delivery PENDING. */
export async function hasPendingWebhookDeliveries(db: DbOrTx, outboxId: number): Promise<boolean> {
  const [row] = await db.select({ settled: sql<boolean>`${outboxWebhooksSettled()}` }).from(outbox).where(eq(outbox.id, outboxId));
  return row ? !row.settled : false;
}
