/** What is booked: providers, their slots and schedules, bookings, their history and reminders. */
import { sql } from "drizzle-orm";
import { bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { bookingStatusEnum, slotSourceEnum, slotStatusEnum, tz } from "./columns";
import { users } from "./accounts";

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
