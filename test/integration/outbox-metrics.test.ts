import { randomUUID } from "node:crypto";
import { isNull } from "drizzle-orm";
import { openDatabase } from "../../src/db/client";
import { markOutboxPublished } from "../../src/db/repositories/outbox.repository";
import { outbox } from "../../src/db/schema";
import { ManualClock } from "../../src/domain/clock";
import { OutboxRelay } from "../../src/events/outbox-relay";
import { Metrics } from "../../src/observability/metrics";
import { bookSlot } from "../support/factories";
import { startTestServer, type TestServer } from "../support/test-server";
import { sampleValue } from "../unit/prometheus-text";
import { openMarket, outboxRows, silentLog, startEmulator, type Emulator } from "../support/outbox-relay-world";

// The outbox gauges read the real outbox table (PGlite by default, PostgreSQL in that mode) on
// every scrape; the relay's failure hook is driven by a real relay against the SQS emulator.

let server: TestServer;
let emu: Emulator;

beforeAll(async () => {
  server = await startTestServer({ env: { OUTBOX_RELAY: "off" } });
  emu = await startEmulator();
});

afterAll(async () => {
  await server?.close();
  await emu?.stop();
});

test("outbox_backlog_events and outbox_oldest_age_seconds are read from the outbox on each scrape", async () => {
  const db = server.database.db;
  const { customers, providers } = await openMarket(server.url, { customers: 2, providers: [{ requiresConfirmation: true }], slotsEach: 2 });
  await bookSlot(server.url, customers[0]!, providers[0]!.slots[0]!.id);
  await bookSlot(server.url, customers[1]!, providers[0]!.slots[1]!.id);

  const pending = await db.select().from(outbox).where(isNull(outbox.publishedAt));
  expect(pending.length).toBeGreaterThanOrEqual(2);
  const oldest = Math.min(...pending.map((r) => r.createdAt.getTime()));
  let now = new Date(oldest + 42_500);
  const metrics = new Metrics({ db, now: () => now, defaultMetrics: false });

  const first = await metrics.render();
  expect(sampleValue(first, "outbox_backlog_events")).toBe(pending.length);
  expect(sampleValue(first, "outbox_oldest_age_seconds")).toBeCloseTo(42.5, 3);

  now = new Date(oldest + 100_000);
  expect(sampleValue(await metrics.render(), "outbox_oldest_age_seconds")).toBeCloseTo(100, 3);

  await markOutboxPublished(db, pending.map((r) => r.id), new Date());
  const drained = await metrics.render();
  expect(sampleValue(drained, "outbox_backlog_events")).toBe(0);
  expect(sampleValue(drained, "outbox_oldest_age_seconds")).toBe(0);
});

test("a database that cannot be read makes the outbox gauges NaN, and the scrape still answers", async () => {
  const broken = await openDatabase({ pgliteDir: "memory://", poolMax: 1 });
  await broken.close();
  const metrics = new Metrics({ db: broken.db, defaultMetrics: false });
  metrics.pubsubPublishFailed();
  const text = await metrics.render();
  expect(sampleValue(text, "outbox_backlog_events")).toBeNaN();
  expect(sampleValue(text, "outbox_oldest_age_seconds")).toBeNaN();
  expect(sampleValue(text, "pubsub_publish_failures_total")).toBe(1);
});

test("outbox_relay_send_failures_total counts each event a queue refused, and nothing once delivery works", async () => {
  const db = server.database.db;
  const queues = await emu.queues();
  const missingQueue = queues.bookingRequest.replace(/[^/]+$/, `no-such-queue-${randomUUID().slice(0, 8)}`);
  const { customers, providers } = await openMarket(server.url, { customers: 2, providers: [{ requiresConfirmation: true }], slotsEach: 2 });
  const bookings = [
    await bookSlot(server.url, customers[0]!, providers[0]!.slots[0]!.id),
    await bookSlot(server.url, customers[1]!, providers[0]!.slots[1]!.id),
  ];
  // Only this test's events: earlier tests' rows are already published.
  const rows = (await outboxRows(db, bookings.map((b) => b.id))).filter((r) => r.publishedAt === null);
  expect(rows.map((r) => r.eventType)).toEqual(["BOOKING_CREATED", "BOOKING_CREATED"]);
  await markOutboxPublished(db, (await outboxRows(db)).filter((r) => r.publishedAt === null && !rows.some((x) => x.id === r.id)).map((r) => r.id), new Date());

  const metrics = new Metrics({ defaultMetrics: false });
  const onSendFailure = (n: number) => metrics.relaySendFailed(n);
  const clock = new ManualClock(new Date());
  const backoff = { backoffBaseMs: 100, backoffMaxMs: 1_000 };
  const broken = new OutboxRelay(db, emu.sqs, { bookingRequest: missingQueue, bookingEvents: queues.bookingEvents }, clock, silentLog, { ...backoff, onSendFailure });
  // Both BOOKING_CREATED events reach booking-events-queue but not the missing request queue.
  expect(await broken.relayRound()).toEqual({ claimed: 2, published: 0, failed: 2 });
  expect(sampleValue(await metrics.render(), "outbox_relay_send_failures_total")).toBe(2);

  clock.advance(backoff.backoffMaxMs + 1);
  expect(await broken.relayRound()).toEqual({ claimed: 2, published: 0, failed: 2 });
  expect(sampleValue(await metrics.render(), "outbox_relay_send_failures_total")).toBe(4);

  clock.advance(backoff.backoffMaxMs + 1);
  const fixed = new OutboxRelay(db, emu.sqs, queues, clock, silentLog, { ...backoff, onSendFailure });
  expect(await fixed.relayRound()).toEqual({ claimed: 2, published: 2, failed: 0 });
  expect(sampleValue(await metrics.render(), "outbox_relay_send_failures_total")).toBe(4);
});
