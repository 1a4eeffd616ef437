import { and, asc, eq, inArray, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { providers, users, webhookDeliveries, webhookEndpoints, type WebhookEndpointRow } from "../schema";

/** Columns a new endpoint needs; the rest take their defaults. */
export interface NewWebhookEndpoint {
  ownerId: string;
  providerId: string | null;
  url: string;
  eventTypes: string[];
  /** Stored form (see domain/webhook-secret). */
  secret: string;
}

export async function insertWebhookEndpoint(db: DbOrTx, values: NewWebhookEndpoint, at: Date): Promise<WebhookEndpointRow> {
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ ...values, createdAt: at, updatedAt: at })
    .returning();
  return row!;
}

export async function findWebhookEndpointById(db: DbOrTx, id: string): Promise<WebhookEndpointRow | undefined> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row;
}

/** How many endpoints `userId` created. */
export async function countWebhookEndpointsOwnedBy(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(webhookEndpoints).where(eq(webhookEndpoints.ownerId, userId));
  return row?.n ?? 0;
}

/**
 * Endpoints `userId` manages: those it created and those scoped to a provider it owns; every
 * endpoint when `all` (admins). Oldest first.
 */
export async function listWebhookEndpointsManagedBy(db: DbOrTx, opts: { userId: string; all: boolean }): Promise<WebhookEndpointRow[]> {
  const owned = db.select({ id: providers.id }).from(providers).where(eq(providers.ownerId, opts.userId));
  return db
    .select()
    .from(webhookEndpoints)
    .where(opts.all ? undefined : or(eq(webhookEndpoints.ownerId, opts.userId), inArray(webhookEndpoints.providerId, owned)))
    .orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
}

/** Changes url, types and enablement; re-enabling clears the reason and the failing streak. */
export async function updateWebhookEndpointRow(
  db: DbOrTx,
  id: string,
  patch: { url: string; eventTypes: string[]; enabled: boolean; disabledReason: string | null },
  at: Date,
): Promise<WebhookEndpointRow | undefined> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({
      url: patch.url,
      eventTypes: patch.eventTypes,
      enabled: patch.enabled,
      // Keeps the first reason while it stays disabled; clears it when enabled.
      disabledReason: patch.enabled ? null : sql`coalesce(${webhookEndpoints.disabledReason}, ${patch.disabledReason})`,
      failingSince: patch.enabled ? sql`case when ${webhookEndpoints.enabled} then ${webhookEndpoints.failingSince} else null end` : webhookEndpoints.failingSince,
      updatedAt: at,
    })
    .where(eq(webhookEndpoints.id, id))
    .returning();
  return row;
}

export async function replaceWebhookSecret(db: DbOrTx, id: string, secret: string, at: Date): Promise<WebhookEndpointRow | undefined> {
  const [row] = await db.update(webhookEndpoints).set({ secret, updatedAt: at }).where(eq(webhookEndpoints.id, id)).returning();
  return row;
}

/** Deletes an endpoint and (cascade) its deliveries; false when it did not exist. */
export async function deleteWebhookEndpointRow(db: DbOrTx, id: string): Promise<boolean> {
  const rows = await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

/**
 * Disables an enabled endpoint with `reason` and gives up its PENDING deliveries (FAILED, with the
 * reason as their error). No-op for one already disabled.
 */
export async function disableWebhookEndpoint(db: DbOrTx, id: string, reason: string, at: Date): Promise<void> {
  await db
    .update(webhookEndpoints)
    .set({ enabled: false, disabledReason: reason, updatedAt: at })
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.enabled, true)));
  await failPendingDeliveriesOf(db, id, `endpoint disabled: ${reason}`);
}

/** Marks an endpoint's PENDING deliveries FAILED (it was disabled). */
export async function failPendingDeliveriesOf(db: DbOrTx, endpointId: string, error: string): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status: "FAILED", nextAttemptAt: null, claimedUntil: null, lastError: error.slice(0, 1000) })
    .where(and(eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.status, "PENDING")));
}

/** Enabled endpoints with what decides which events they receive (for the fan-out). */
export async function listEnabledEndpointScopes(
  db: DbOrTx,
): Promise<{ id: string; ownerId: string; providerId: string | null; eventTypes: string[]; ownerIsAdmin: boolean }[]> {
  return db
    .select({
      id: webhookEndpoints.id,
      ownerId: webhookEndpoints.ownerId,
      providerId: webhookEndpoints.providerId,
      eventTypes: webhookEndpoints.eventTypes,
      ownerIsAdmin: sql<boolean>`${users.role} = 'ADMIN'`,
    })
    .from(webhookEndpoints)
    .innerJoin(users, eq(users.id, webhookEndpoints.ownerId))
    .where(eq(webhookEndpoints.enabled, true))
    .orderBy(asc(webhookEndpoints.id));
}

/** A success ends the endpoint's failing streak. */
export async function recordEndpointSuccess(db: DbOrTx, id: string): Promise<void> {
  await db
    .update(webhookEndpoints)
    .set({ failingSince: null })
    .where(and(eq(webhookEndpoints.id, id), sql`${webhookEndpoints.failingSince} is not null`));
}

/**
 * A failure starts the failing streak if none is running.
 * @returns when the streak began
 */
export async function recordEndpointFailure(db: DbOrTx, id: string, at: Date): Promise<Date | null> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${at.toISOString()}::timestamptz)` })
    .where(eq(webhookEndpoints.id, id))
    .returning({ failingSince: webhookEndpoints.failingSince });
  return row?.failingSince ?? null;
}
