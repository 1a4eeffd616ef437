import { systemClock } from "../../src/domain/clock";
import { OutboxRelay } from "../../src/events/outbox-relay";
import { EMULATOR_CREDENTIALS, createSqsClient } from "../../src/events/queue-setup";
import { REDIS_URL, createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy";
import { startTestServer, type TestServer } from "../support/test-server";
import {
  ADMIN_ENV,
  adminToken,
  bookAndDrive,
  drainQueue,
  expectEachOnce,
  expectPerBookingOrder,
  fateOf,
  openMarket,
  outboxRows,
  outboxStatus,
  silentLog,
  startEmulator,
  type Emulator,
} from "../support/outbox-relay-world";
import { REGION } from "../support/sqs";
import { waitFor } from "../support/wait";
import { mapLimit } from "../support/map-limit";

// Outages of the relay's dependencies, made with a TCP proxy that is cut and restored:
// the API keeps taking bookings, the outbox keeps every event, and delivery resumes once
// the dependency is back, each event once per queue and in per-booking order.

// Servers, argon2 hashes and an emulator on two cores shared with other suites: generous limits, never asserted on.
jest.setTimeout(180_000);

const HEAVY_TEST_MS = 240_000;
const cleanups: (() => Promise<void>)[] = [];
let postgresUp = false;

beforeAll(async () => {
  postgresUp = await requireService("postgres");
});

afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function freshDatabase(): Promise<TestDatabase> {
  const d = await createPostgresDatabase();
  cleanups.push(() => d.drop());
  return d;
}

function expectAllDelivered(
  got: { request: Awaited<ReturnType<typeof drainQueue>>; confirmation: Awaited<ReturnType<typeof drainQueue>>; events: Awaited<ReturnType<typeof drainQueue>> },
  rows: Awaited<ReturnType<typeof outboxRows>>,
): void {
  expectEachOnce(got.request, rows.filter((r) => r.eventType === "BOOKING_CREATED"));
  expectEachOnce(got.confirmation, rows.filter((r) => r.eventType === "BOOKING_CONFIRMED"));
  expectEachOnce(got.events, rows);
  expectPerBookingOrder(got.events, rows);
}

test(
  "SQS unreachable while 200 bookings are made: every mutation succeeds, and once SQS is back every event arrives once, in order",
  async () => {
    if (!postgresUp) return;
    const emu: Emulator = await startEmulator();
    cleanups.push(() => emu.stop());
    const queues = await emu.queues();
    const proxy: TcpProxy = await startTcpProxy("127.0.0.1", emu.emulator.port);
    cleanups.push(() => proxy.close());
    const server: TestServer = await startTestServer({ databaseUrl: (await freshDatabase()).url, env: { OUTBOX_RELAY: "off", ...ADMIN_ENV } });
    cleanups.push(() => server.close());

    // The server's relay, but with a short backoff so the test does not wait out a 30 s ceiling.
    const sqs = createSqsClient({ region: REGION, endpoint: `http://${proxy.address}`, credentials: EMULATOR_CREDENTIALS });
    const relay = new OutboxRelay(server.database.db, sqs, queues, systemClock, silentLog, { backoffBaseMs: 20, backoffMaxMs: 250, pollIntervalMs: 100 });
    server.live.onCommit(() => relay.wake());
    relay.start();
    cleanups.push(async () => {
      await relay.stop();
      sqs.destroy();
    });

    const url = server.url;
    const token = await adminToken(url);
    const market = await openMarket(url, {
      customers: 10,
      providers: [{ requiresConfirmation: true }, { requiresConfirmation: true }, { requiresConfirmation: true }, { requiresConfirmation: false }],
      slotsEach: 51,
    });
    // Before the outage the relay reaches SQS through the proxy (and only through it).
    const warmUp = await bookAndDrive(url, market, 0, 50, "accept");
    await waitFor("the warm-up events to be delivered", async () => (await outboxStatus(url, token)).pending === 0, { timeoutMs: 60_000 });
    expect(proxy.accepted).toBeGreaterThan(0);

    proxy.cut();
    const bookingIds = await mapLimit(Array.from({ length: 200 }), 8, (_, i) => bookAndDrive(url, market, i % 4, Math.floor(i / 4), fateOf(i)));
    expect(new Set(bookingIds).size).toBe(200);

    const rows = await outboxRows(server.database.db, [warmUp, ...bookingIds]);
    const outage = await waitFor("the relay to report a send error", async () => {
      const s = await outboxStatus(url, token);
      return s.lastError ? s : undefined;
    }, { timeoutMs: 60_000 });
    expect(outage.pending).toBe(rows.length - rows.filter((r) => r.bookingId === warmUp).length);
    expect(outage.oldestPendingAt).not.toBeNull();
    expect(relay.status().consecutiveFailures).toBeGreaterThan(0);

    proxy.restore();
    await waitFor("the backlog to empty", async () => (await outboxStatus(url, token)).pending === 0, { timeoutMs: 120_000, intervalMs: 200 });

    expectAllDelivered(
      {
        request: await drainQueue(emu.sqs, queues.bookingRequest, { expected: rows.filter((r) => r.eventType === "BOOKING_CREATED").length }),
        confirmation: await drainQueue(emu.sqs, queues.bookingConfirmation, { expected: rows.filter((r) => r.eventType === "BOOKING_CONFIRMED").length }),
        events: await drainQueue(emu.sqs, queues.bookingEvents, { expected: rows.length }),
      },
      rows,
    );
  },
  HEAVY_TEST_MS,
);

test(
  "Redis unreachable: mutations still succeed and SQS delivery is unaffected",
  async () => {
    if (!postgresUp || !(await requireService("redis"))) return;
    const target = new URL(REDIS_URL);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    cleanups.push(() => proxy.close());
    const proxied = new URL(REDIS_URL);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxy.port);
    // With no SQS configured the server starts its embedded emulator.
    const server = await startTestServer({
      databaseUrl: (await freshDatabase()).url,
      redisUrl: proxied.toString(),
      env: { OUTBOX_RELAY: "on", OUTBOX_RELAY_POLL_MS: "100", ...ADMIN_ENV },
    });
    cleanups.push(async () => {
      // Let the pub/sub close cleanly instead of waiting on a dead socket.
      proxy.restore();
      await server.close();
    });
    const readyz = server.url.replace(/\/graphql$/, "/readyz");
    expect(await (await fetch(readyz)).json()).toMatchObject({ status: "ready", pubsub: "redis" });

    const url = server.url;
    const token = await adminToken(url);
    const market = await openMarket(url, { customers: 3, providers: [{ requiresConfirmation: true }, { requiresConfirmation: false }], slotsEach: 3 });

    proxy.cut();
    const failuresBefore = server.live.failures;
    // Every mutation waits for its live publishes to fail (seconds each), so keep this small.
    const bookingIds = await mapLimit(Array.from({ length: 6 }), 6, (_, i) => bookAndDrive(url, market, i % 2, Math.floor(i / 2), fateOf(i)));
    expect(new Set(bookingIds).size).toBe(6);
    // The live publishes really failed (and were swallowed): Redis was unreachable for the server.
    expect(server.live.failures).toBeGreaterThan(failuresBefore);
    expect((await fetch(readyz)).status).toBe(503);

    await waitFor("the backlog to empty", async () => (await outboxStatus(url, token)).pending === 0, { timeoutMs: 60_000 });
    const rows = await outboxRows(server.database.db, bookingIds);
    const emulator = server.relay!.emulator!;
    const sqs = createSqsClient({ region: REGION, endpoint: emulator.endpoint, credentials: EMULATOR_CREDENTIALS });
    try {
      expectAllDelivered(
        {
          request: await drainQueue(sqs, emulator.queueUrls.bookingRequest, { expected: rows.filter((r) => r.eventType === "BOOKING_CREATED").length }),
          confirmation: await drainQueue(sqs, emulator.queueUrls.bookingConfirmation, { expected: rows.filter((r) => r.eventType === "BOOKING_CONFIRMED").length }),
          events: await drainQueue(sqs, emulator.queueUrls.bookingEvents, { expected: rows.length }),
        },
        rows,
      );
    } finally {
      sqs.destroy();
    }
  },
  HEAVY_TEST_MS,
);
