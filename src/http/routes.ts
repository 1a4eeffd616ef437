import type { Express } from "express";
import type { Core } from "../core";
import { CALENDAR_FEED_PATH } from "../services/calendar-feed.service";

/**
 * `GET /healthz` (the process is up), `GET /metrics` (Prometheus text) and `GET /readyz` (the
 * database and, with Redis, pub/sub answer: 200, else 503).
 */
export function mountProbes(app: Express, core: Pick<Core, "metrics" | "log" | "ping" | "database" | "pubSubKind">): void {
  app.get("/healthz", (_req, res) => {
    res.status(200).json({ status: "ok" });
  });
  app.get("/metrics", async (_req, res) => {
    try {
      const body = await core.metrics.render();
      res.status(200).set("content-type", core.metrics.contentType).send(body);
    } catch (err) {
      core.log.warn({ err }, "metrics scrape failed");
      res.status(500).end();
    }
  });
  app.get("/readyz", async (_req, res) => {
    try {
      await core.ping();
      res.status(200).json({ status: "ready", database: core.database.kind, pubsub: core.pubSubKind });
    } catch (err) {
      core.log.warn({ err }, "readiness check failed");
      res.status(503).json({ status: "unavailable" });
    }
  });
}

/** `GET /calendar/:token` (CALENDAR_FEED_PATH): a provider's or customer's bookings as iCalendar. */
export function mountCalendarFeed(app: Express, core: Pick<Core, "services" | "log">): void {
  app.get(`${CALENDAR_FEED_PATH}/:token`, async (req, res) => {
    try {
      const ics = await core.services.calendarFeed.render(req.params.token);
      // One answer for a wrong, rotated or malformed token: nothing to tell them apart.
      if (ics === undefined) return void res.status(404).type("text/plain").send("not found");
      res.status(200).set({ "content-type": "text/calendar; charset=utf-8", "cache-control": "private, max-age=300" }).send(ics);
    } catch (err) {
      core.log.warn({ err }, "calendar feed failed");
      res.status(500).end();
    }
  });
}
