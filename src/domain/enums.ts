/**
 * Every enumeration of the system, each declared once. The Drizzle `pgEnum`s (`src/db/schema.ts`),
 * the TypeScript types and the GraphQL enums (`src/schema/enums.ts`) are derived from these
 * arrays, so adding a value is one edit here plus its migration (`ALTER TYPE … ADD VALUE`).
 * Order matters: it is the order of the PostgreSQL enum and of the GraphQL enum's values.
 */

/** Account roles. */
export const ROLES = ["CUSTOMER", "PROVIDER", "ADMIN"] as const;
export type Role = (typeof ROLES)[number];

/** Booking states (DESIGN.md "Lifecycle"). */
export const BOOKING_STATUSES = ["PENDING", "CONFIRMED", "REJECTED", "CANCELLED", "EXPIRED"] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

/** Slot states. */
export const SLOT_STATUSES = ["AVAILABLE", "HELD", "BOOKED", "BLOCKED"] as const;
export type SlotStatus = (typeof SLOT_STATUSES)[number];

/** Where a slot came from: `addAvailability` or a schedule's generation. */
export const SLOT_SOURCES = ["MANUAL", "SCHEDULE"] as const;
export type SlotSource = (typeof SLOT_SOURCES)[number];

/** Booking event types, as carried in the event envelope's `eventType`. */
export const BOOKING_EVENT_TYPES = [
  "BOOKING_CREATED",
  "BOOKING_CONFIRMED",
  "BOOKING_REJECTED",
  "BOOKING_CANCELLED",
  "BOOKING_EXPIRED",
  "BOOKING_RESCHEDULED",
  "BOOKING_REMINDER",
] as const;
export type BookingEventType = (typeof BOOKING_EVENT_TYPES)[number];

/** States of one webhook delivery. */
export const WEBHOOK_DELIVERY_STATUSES = ["PENDING", "SUCCEEDED", "FAILED"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];
