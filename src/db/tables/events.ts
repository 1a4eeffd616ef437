/** What is published: the outbox (also the event log), consumers' processed events, webhook endpoints and deliveries. */
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { tz, webhookDeliveryStatusEnum, xid8 } from "./columns";
import { users } from "./accounts";
import { providers } from "./scheduling";

/**
 * Transactional outbox: one row per event, written in the transaction that made
 * the change. `publishedAt` is set by the SQS relay once every target queue accepted it.
 */
export const outbox = pgTable(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    eventId: uuid("event_id").notNull().unique("outbox_event_id_key"),
    eventType: text("event_type").notNull(),
    bookingId: uuid("booking_id").notNull(),
    payload: jsonb("payload").notNull(),
    createdAt: tz("created_at").notNull().defaultNow(),
    publishedAt: tz("published_at"),
    /** Lease: a relay that claimed the row owns it until then; an expired lease may be re-claimed. */
    claimedUntil: tz("claimed_until"),
    /** Queue URLs that already accepted this event, so a retry never resends to them. */
    deliveredQueues: text("delivered_queues").array().notNull().default(sql`'{}'::text[]`),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /**
     * The event log's order key, with `id`: the inserting transaction's id, raised by a trigger
     * (drizzle/0011) to at least that of the booking's previous event. Readers hand out only rows
     * below their snapshot's xmin, ordered by (xactId, id); see `listLoggedEvents`.
     */
    xactId: xid8("xact_id").notNull().default(sql`pg_current_xact_id()`),
    /** The payload's provider id (generated), for reading a provider's events. */
    providerId: uuid("provider_id").generatedAlwaysAs(sql`(("payload" ->> 'providerId'))::uuid`),
    /** The booking right after the event (`BookingSnapshot`), when the writer supplied it. */
    booking: jsonb("booking"),
    /** Set once the webhook worker has created this event's deliveries (one per matching endpoint). */
    webhooksDispatchedAt: tz("webhooks_dispatched_at"),
  },
  (t) => [
    // The webhook worker's fan-out scan and its per-booking ordering check.
    index("outbox_webhooks_undispatched_idx")
      .on(t.bookingId, t.id)
      .where(sql`${t.webhooksDispatchedAt} is null`),
    index("outbox_unpublished_idx")
      .on(t.id)
      .where(sql`${t.publishedAt} is null`),
    // The relay's per-booking ordering check looks up earlier unpublished events of a booking.
    index("outbox_booking_unpublished_idx")
      .on(t.bookingId, t.id)
      .where(sql`${t.publishedAt} is null`),
    index("outbox_booking_log_idx").on(t.bookingId, t.xactId, t.id),
    index("outbox_provider_log_idx").on(t.providerId, t.xactId, t.id),
    // The retention worker finds published events by age.
    index("outbox_published_idx")
      .on(t.publishedAt)
      .where(sql`${t.publishedAt} is not null`),
  ],
);

/**
 * Events a consumer has handled, keyed by consumer name and event id: what makes SQS
 * consumers idempotent across redeliveries and restarts.
 */
export const processedEvents = pgTable(
  "processed_events",
  {
    consumer: text("consumer").notNull(),
    eventId: uuid("event_id").notNull(),
    processedAt: tz("processed_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId], name: "processed_events_pkey" })],
);

/**
 * A receiver of signed webhooks (Standard Webhooks). `providerId` null: every provider its owner
 * owns (an admin owner's: all). `eventTypes` empty: every type.
 */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    providerId: uuid("provider_id").references(() => providers.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    eventTypes: text("event_types").array().notNull().default(sql`'{}'::text[]`),
    /** The signing secret as stored: `enc:v1:...` (AES-256-GCM under WEBHOOK_SECRET_KEY) or `raw:whsec_...`. */
    secret: text("secret").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    disabledReason: text("disabled_reason"),
    /** First failed attempt since the last success; null while healthy. */
    failingSince: tz("failing_since"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("webhook_endpoints_owner_idx").on(t.ownerId), index("webhook_endpoints_provider_idx").on(t.providerId)],
);

/**
 * One event to send to one endpoint. `id` order is commit order per booking (deliveries are
 * created in outbox order), which the worker keeps per endpoint. `outboxId` has no foreign key:
 * old outbox rows are pruned, their delivery history stays (the pruning waits while one is PENDING).
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    outboxId: bigint("outbox_id", { mode: "number" }).notNull(),
    eventId: uuid("event_id").notNull(),
    eventType: text("event_type").notNull(),
    bookingId: uuid("booking_id").notNull(),
    status: webhookDeliveryStatusEnum("status").notNull().default("PENDING"),
    attempts: integer("attempts").notNull().default(0),
    lastResponseStatus: integer("last_response_status"),
    lastError: text("last_error"),
    lastAttemptAt: tz("last_attempt_at"),
    /** When a PENDING delivery is due; null once it ended. */
    nextAttemptAt: tz("next_attempt_at"),
    /** Lease: the worker that claimed it owns it until then; an expired lease may be re-claimed. */
    claimedUntil: tz("claimed_until"),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.id),
    index("webhook_deliveries_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'PENDING'`),
    index("webhook_deliveries_pending_booking_idx")
      .on(t.endpointId, t.bookingId, t.id)
      .where(sql`${t.status} = 'PENDING'`),
    index("webhook_deliveries_pending_outbox_idx")
      .on(t.outboxId)
      .where(sql`${t.status} = 'PENDING'`),
  ],
);
