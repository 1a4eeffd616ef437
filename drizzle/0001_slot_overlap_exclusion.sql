-- No two slots of one provider may overlap, enforced by the database rather than by a
-- read-then-write in the service. drizzle-kit cannot express EXCLUDE constraints.
-- Ranges are half-open [starts_at, ends_at), so back-to-back slots do not conflict.
CREATE EXTENSION IF NOT EXISTS btree_gist;--> statement-breakpoint
ALTER TABLE "slots" ADD CONSTRAINT "slots_time_order" CHECK ("ends_at" > "starts_at");--> statement-breakpoint
ALTER TABLE "slots" ADD CONSTRAINT "slots_no_overlap"
  EXCLUDE USING gist ("provider_id" WITH =, tstzrange("starts_at", "ends_at", '[)') WITH &&);
