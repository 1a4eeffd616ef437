/** Column types and enums shared by the tables in this folder. */
import { customType, pgEnum, timestamp } from "drizzle-orm/pg-core";
import { BOOKING_STATUSES, ROLES, SLOT_SOURCES, SLOT_STATUSES, WEBHOOK_DELIVERY_STATUSES } from "../../domain/enums";

// The values come from src/domain/enums.ts, their one source.
export const roleEnum = pgEnum("role", ROLES);
export const slotStatusEnum = pgEnum("slot_status", SLOT_STATUSES);
export const slotSourceEnum = pgEnum("slot_source", SLOT_SOURCES);
export const bookingStatusEnum = pgEnum("booking_status", BOOKING_STATUSES);
export const webhookDeliveryStatusEnum = pgEnum("webhook_delivery_status", WEBHOOK_DELIVERY_STATUSES);

/**
 * PostgreSQL `xid8` (a 64-bit transaction id that never wraps), carried as its decimal text:
 * beyond 2^53 a JS number would lose digits.
 */
export const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => "xid8" });

// Millisecond precision matches JS Date exactly, so keyset cursors round-trip without loss.
export const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "date", precision: 3 });
