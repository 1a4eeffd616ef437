CREATE TYPE "public"."slot_source" AS ENUM('MANUAL', 'SCHEDULE');--> statement-breakpoint
CREATE TABLE "booking_reminders" (
	"booking_id" uuid NOT NULL,
	"offset_minutes" integer NOT NULL,
	"slot_starts_at" timestamp (3) with time zone NOT NULL,
	"emitted" boolean NOT NULL,
	"decided_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "booking_reminders_pkey" PRIMARY KEY("booking_id","offset_minutes","slot_starts_at")
);
--> statement-breakpoint
CREATE TABLE "schedules" (
	"provider_id" uuid PRIMARY KEY NOT NULL,
	"slot_minutes" integer NOT NULL,
	"buffer_minutes" integer NOT NULL,
	"minimum_notice_minutes" integer NOT NULL,
	"horizon_days" integer NOT NULL,
	"weekly" jsonb NOT NULL,
	"overrides" jsonb NOT NULL,
	"generated_until" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "slots" ADD COLUMN "source" "slot_source" DEFAULT 'MANUAL' NOT NULL;--> statement-breakpoint
ALTER TABLE "booking_reminders" ADD CONSTRAINT "booking_reminders_booking_id_bookings_id_fk" FOREIGN KEY ("booking_id") REFERENCES "public"."bookings"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_provider_id_providers_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."providers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "slots_booked_start_idx" ON "slots" USING btree ("starts_at") WHERE "slots"."status" = 'BOOKED';