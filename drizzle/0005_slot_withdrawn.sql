ALTER TABLE "slots" ADD COLUMN "withdrawn" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- Withdrawn slots no longer take part in the no-overlap rule (see slots.withdrawn).
ALTER TABLE "slots" DROP CONSTRAINT "slots_no_overlap";--> statement-breakpoint
ALTER TABLE "slots" ADD CONSTRAINT "slots_no_overlap"
  EXCLUDE USING gist ("provider_id" WITH =, tstzrange("starts_at", "ends_at", '[)') WITH &&) WHERE (NOT "withdrawn");
