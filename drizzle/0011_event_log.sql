-- The event log behind bookingEvents / bookingEventStream (issue 14).
-- Outbox ids are taken at insert, not at commit, so they cannot be a cursor on their own. Every
-- row records the id of the transaction that inserted it (xact_id, xid8); readers only hand out
-- rows with xact_id below their snapshot's xmin (every such transaction has ended, so all of
-- them are visible) and order by (xact_id, id): a transaction still running, or not started,
-- can only add rows after every position already handed out.
ALTER TABLE "outbox" ADD COLUMN "xact_id" xid8 DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
-- The provider's events are read by provider, so it is a column (kept equal to the payload's).
ALTER TABLE "outbox" ADD COLUMN "provider_id" uuid GENERATED ALWAYS AS ((("payload" ->> 'providerId'))::uuid) STORED;--> statement-breakpoint
-- The booking as it was right after the event (live payload snapshot), for the log's readers.
ALTER TABLE "outbox" ADD COLUMN "booking" jsonb;--> statement-breakpoint
-- xact_id is never below the inserting transaction's id (whatever an INSERT says) and never
-- below that of the booking's previous event: a transaction that got its id before it waited
-- for the booking's row lock still sorts after the event it waited for, so one booking's events
-- keep commit order in the log (ties are broken by id, taken after the wait).
CREATE FUNCTION "outbox_set_xact_id"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.xact_id := GREATEST(
    pg_current_xact_id(),
    (SELECT o.xact_id FROM outbox o WHERE o.booking_id = NEW.booking_id ORDER BY o.xact_id DESC, o.id DESC LIMIT 1)
  );
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "outbox_set_xact_id" BEFORE INSERT ON "outbox" FOR EACH ROW EXECUTE FUNCTION "outbox_set_xact_id"();--> statement-breakpoint
CREATE INDEX "outbox_booking_log_idx" ON "outbox" USING btree ("booking_id","xact_id","id");--> statement-breakpoint
CREATE INDEX "outbox_provider_log_idx" ON "outbox" USING btree ("provider_id","xact_id","id");--> statement-breakpoint
-- The retention worker finds published events by age.
CREATE INDEX "outbox_published_idx" ON "outbox" USING btree ("published_at") WHERE "outbox"."published_at" is not null;
