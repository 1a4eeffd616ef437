-- The slot a createBooking request named: an idempotency key names that request, so a retry
-- after a reschedule must still match it (bookings.slot_id follows the booking).
ALTER TABLE "bookings" ADD COLUMN "requested_slot_id" uuid;--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_requested_slot_id_slots_id_fk" FOREIGN KEY ("requested_slot_id") REFERENCES "public"."slots"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Existing bookings: the slot of their BOOKING_CREATED event where the outbox still has it,
-- else their current slot.
UPDATE "bookings" AS b SET "requested_slot_id" = coalesce(
  (SELECT (o."payload"->>'slotId')::uuid FROM "outbox" AS o
     WHERE o."booking_id" = b."id" AND o."event_type" = 'BOOKING_CREATED' ORDER BY o."id" LIMIT 1),
  b."slot_id");--> statement-breakpoint
-- A schedule slot that the current schedule no longer offers, kept only because a booking
-- holds it: when that booking ends, the slot is withdrawn instead of going back on sale.
ALTER TABLE "slots" ADD COLUMN "withdraw_on_release" boolean DEFAULT false NOT NULL;
