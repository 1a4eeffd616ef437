import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  customType,
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { BOOKING_STATUSES, ROLES, SLOT_SOURCES, SLOT_STATUSES, WEBHOOK_DELIVERY_STATUSES } from "../domain/enums";

/**
 * Drizzle tables. All instants are `timestamptz` (UTC on the wire); ids are UUIDs.
 * The overlap exclusion constraint on `slots` lives in a hand-written migration
 * (`drizzle/0001_*.sql`) because drizzle-kit cannot express `EXCLUDE USING gist`.
 */

// The values come from src/domain/enums.ts, their one source.
export const roleEnum = pgEnum("role", ROLES);
export const slotStatusEnum = pgEnum("slot_status", SLOT_STATUSES);
export const slotSourceEnum = pgEnum("slot_source", SLOT_SOURCES);
export const bookingStatusEnum = pgEnum("booking_status", BOOKING_STATUSES);

/**
 * PostgreSQL `xid8` (a 64-bit transaction id that never wraps), carried as its decimal text:
 * beyond 2^53 a JS number would lose digits.
 */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => "xid8" });

// Millisecond precision matches JS Date exactly, so keyset cursors round-trip without loss.
const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "date", precision: 3 });

export const users = pgTable("users", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** Stored lower-cased; uniqueness is case-insensitive by construction. */
  email: text("email").notNull().unique("users_email_key"),
  name: text("name").notNull(),
  role: roleEnum("role").notNull(),
  passwordHash: text("password_hash").notNull(),
  createdAt: tz("created_at").notNull().defaultNow(),
});

/**
 * A sign-in session: every refresh token rotated from one login belongs to it, and every
 * access token names it (`sid`). Revoking it (logout, or a refresh token used twice)
 * ends all of them at once.
 */
export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: tz("created_at").notNull().defaultNow(),
    revokedAt: tz("revoked_at"),
    /** Why it ended: `LOGOUT` or `REFRESH_TOKEN_REUSED`. */
    revokedReason: text("revoked_reason"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The session (token family): all tokens rotated from one login share it; reuse revokes it. */
    familyId: uuid("family_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    /** SHA-256 of the opaque token, hex; the token itself is never stored. */
    tokenHash: text("token_hash").notNull().unique("refresh_tokens_token_hash_key"),
    expiresAt: tz("expires_at").notNull(),
    usedAt: tz("used_at"),
    revokedAt: tz("revoked_at"),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [index("refresh_tokens_family_idx").on(t.familyId)],
);

export const providers = pgTable(
  "providers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id),
    name: text("name").notNull(),
    /** IANA zone name, validated on write. */
    timeZone: text("time_zone").notNull(),
    requiresConfirmation: boolean("requires_confirmation").notNull().default(true),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [index("providers_owner_idx").on(t.ownerId), index("providers_created_idx").on(t.createdAt, t.id)],
);

export const slots = pgTable(
  "slots",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    providerId: uuid("provider_id")
      .notNull()
      .references(() => providers.id),
    startsAt: tz("starts_at").notNull(),
    endsAt: tz("ends_at").notNull(),
    status: slotStatusEnum("status").notNull().default("AVAILABLE"),
    /** MANUAL (addAvailability) or SCHEDULE (generated); regeneration only touches SCHEDULE slots. */
    source: slotSourceEnum("source").notNull().default("MANUAL"),
    /**
     * Withdrawn by a schedule change but kept (BLOCKED) because a booking's history points at
     * it. Withdrawn slots leave the overlap constraint, so the new schedule may use their time,
     * and come back if the schedule offers exactly them again.
     */
    withdrawn: boolean("withdrawn").notNull().default(false),
    /**
     * A SCHEDULE slot the current schedule no longer offers, kept only because a booking holds
     * it (or the provider blocked it): when it is released it is withdrawn instead of going back
     * on sale. setSchedule sets and clears it; releasing clears it.
     */
    withdrawOnRelease: boolean("withdraw_on_release").notNull().default(false),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("slots_provider_start_idx").on(t.providerId, t.startsAt),
    // The reminder worker scans booked slots starting soon, across providers.
    index("slots_booked_start_idx")
      .on(t.startsAt)
      .where(sql`${t.status} = 'BOOKED'`),
  ],
);

export const bookings = pgTable(
  "bookings",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    slotId: uuid("slot_id")
      .notNull()
      .references(() => slots.id),
    /**
     * The slot the createBooking request named. Its idempotency key names that request, so a
     * replay matches this, not `slotId`, which a reschedule moves. Null only on rows written
     * outside the service (raw SQL); read as `slotId` then.
     */
    requestedSlotId: uuid("requested_slot_id").references(() => slots.id),
    providerId: uuid("provider_id")
      .notNull()
      .references(() => providers.id),
    customerId: uuid("customer_id")
      .notNull()
      .references(() => users.id),
    status: bookingStatusEnum("status").notNull(),
    holdExpiresAt: tz("hold_expires_at"),
    reason: text("reason"),
    idempotencyKey: text("idempotency_key"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    // The backstop against double booking: at most one active booking per slot.
    uniqueIndex("bookings_one_active_per_slot")
      .on(t.slotId)
      .where(sql`${t.status} in ('PENDING', 'CONFIRMED')`),
    uniqueIndex("bookings_customer_idempotency_key")
      .on(t.customerId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index("bookings_customer_created_idx").on(t.customerId, t.createdAt, t.id),
    index("bookings_provider_created_idx").on(t.providerId, t.createdAt, t.id),
    index("bookings_pending_hold_idx")
      .on(t.holdExpiresAt)
      .where(sql`${t.status} = 'PENDING'`),
  ],
);

export const bookingStatusChanges = pgTable(
  "booking_status_changes",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    bookingId: uuid("booking_id")
      .notNull()
      .references(() => bookings.id),
    fromStatus: bookingStatusEnum("from_status"),
    toStatus: bookingStatusEnum("to_status").notNull(),
    /** User who caused the change; null when the system did (expiry, auto-confirm). */
    actorId: uuid("actor_id").references(() => users.id),
    reason: text("reason"),
    at: tz("at").notNull(),
  },
  (t) => [index("booking_status_changes_booking_idx").on(t.bookingId, t.id)],
);

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
 * A provider's weekly schedule in its own time zone (contract part 2-scheduling).
 * Windows are local wall-clock times; slots are generated from it up to `horizonDays` ahead.
 */
export const schedules = pgTable("schedules", {
  providerId: uuid("provider_id")
    .primaryKey()
    .references(() => providers.id),
  slotMinutes: integer("slot_minutes").notNull(),
  bufferMinutes: integer("buffer_minutes").notNull(),
  minimumNoticeMinutes: integer("minimum_notice_minutes").notNull(),
  horizonDays: integer("horizon_days").notNull(),
  /** `WeeklyWindow[]` ({ weekday 1-7, startTime, endTime } as HH:MM local). */
  weekly: jsonb("weekly").notNull(),
  /** `DateOverride[]` ({ date YYYY-MM-DD, windows }). */
  overrides: jsonb("overrides").notNull(),
  /** Slots have been generated for starts before this instant. */
  generatedUntil: tz("generated_until").notNull(),
  updatedAt: tz("updated_at").notNull(),
});

/**
 * One row per reminder decided for a booking at an offset before a given slot start:
 * the primary key makes each reminder happen exactly once across workers and restarts, and
 * a rescheduled booking (new slot start) gets reminders for its new time.
 */
export const bookingReminders = pgTable(
  "booking_reminders",
  {
    bookingId: uuid("booking_id")
      .notNull()
      .references(() => bookings.id),
    offsetMinutes: integer("offset_minutes").notNull(),
    slotStartsAt: tz("slot_starts_at").notNull(),
    /** Whether an event was emitted (false: superseded by a closer reminder that was due at the same time). */
    emitted: boolean("emitted").notNull(),
    decidedAt: tz("decided_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.bookingId, t.offsetMinutes, t.slotStartsAt], name: "booking_reminders_pkey" })],
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

export const webhookDeliveryStatusEnum = pgEnum("webhook_delivery_status", WEBHOOK_DELIVERY_STATUSES);

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

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
/**
 * A user's secret calendar feed (contract part 6, `User.calendarFeedUrl`). The URL's token is
 * HMAC-SHA256(server secret, `nonce`), so it can be shown again without being stored; only its
 * SHA-256 (`tokenHash`, hex) is kept, for the lookup. Rotating replaces the nonce and the hash.
 */
export const calendarFeeds = pgTable("calendar_feeds", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  nonce: text("nonce").notNull(),
  tokenHash: text("token_hash").notNull().unique("calendar_feeds_token_hash_key"),
  createdAt: tz("created_at").notNull().defaultNow(),
});

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
export type ProviderRow = typeof providers.$inferSelect;
export type SlotRow = typeof slots.$inferSelect;
export type BookingRow = typeof bookings.$inferSelect;
export type BookingStatusChangeRow = typeof bookingStatusChanges.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type ScheduleRow = typeof schedules.$inferSelect;
export type CalendarFeedRow = typeof calendarFeeds.$inferSelect;
