/**
 * Drizzle tables (in ./tables, by concern; this module is what drizzle-kit and the repositories
 * read). All instants are `timestamptz` (UTC on the wire); ids are UUIDs.
 * The overlap exclusion constraint on `slots` lives in a hand-written migration
 * (`drizzle/0001_*.sql`) because drizzle-kit cannot express `EXCLUDE USING gist`.
 */
export * from "./tables/accounts";
export { bookingStatusEnum, roleEnum, slotSourceEnum, slotStatusEnum, webhookDeliveryStatusEnum } from "./tables/columns";
export * from "./tables/events";
export * from "./tables/scheduling";
import type { calendarFeeds, refreshTokens, sessions, users } from "./tables/accounts";
import type { outbox, webhookDeliveries, webhookEndpoints } from "./tables/events";
import type { bookingStatusChanges, bookings, providers, schedules, slots } from "./tables/scheduling";

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
export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
