import { systemClock } from "../../src/domain/clock";
import { OutboxRelay } from "../../src/events/outbox-relay";
import { EMULATOR_CREDENTIALS, createSqsClient, type QueueUrls } from "../../src/events/queue-setup";
import { createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
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
  sqsEnv,
  startEmulator,
  useEmulatorCredentialsInEnv,
  type Emulator,
} from "../support/outbox-relay-world";
import { REGION } from "../support/sqs";
import { waitFor } from "../support/wait";
import { mapLimit } from "../support/map-limit";

// Several API instances each run a relay on one database: FOR UPDATE SKIP LOCKED plus the
// lease must give every row to exactly one of them. Real PostgreSQL only (PGlite has a
// single connection and cannot race).

// Servers, argon2 hashes and an emulator on two cores shared with other suites: generous limits, never asserted on.
jest.setTimeout(180_000);

let available = false;
let emu: Emulator | undefined;
const databases: TestDatabase[] = [];
const servers: TestServer[] = [];

beforeAll(async () => {
  available = await requireService("postgres");
  if (!available) return;
  useEmulatorCredentialsInEnv();
  emu = await startEmulator();
});

afterAll(async () => {
  for (const s of servers.reverse()) await s.close();
  for (const d of databases) await d.drop();
  await emu?.stop();
});

async function freshDatabase(): Promise<string> {
  const d = await createPostgresDatabase();
  databases.push(d);
  return d.url;
}

async function expectQueuesHoldEachOnce(queues: QueueUrls, rows: Awaited<ReturnType<typeof outboxRows>>): Promise<void> {
  const created = rows.filter((r) => r.eventType === "BOOKING_CREATED");
  const confirmed = rows.filter((r) => r.eventType === "BOOKING_CONFIRMED");
  expectEachOnce(await drainQueue(emu!.sqs, queues.bookingRequest, { expected: created.length }), created);
  expectEachOnce(await drainQueue(emu!.sqs, queues.bookingConfirmation, { expected: confirmed.length }), confirmed);
  const events = await drainQueue(emu!.sqs, queues.bookingEvents, { expected: rows.length });
  expectEachOnce(events, rows);
  expectPerBookingOrder(events, rows);
}

test("two relays claiming at the same moment split the rows and send none twice", async () => {
  if (!available || !emu) return;
  const server = await startTestServer({ databaseUrl: await freshDatabase(), env: { OUTBOX_RELAY: "off" } });
  servers.push(server);
  const queues = await emu.queues();
  const market = await openMarket(server.url, { customers: 3, providers: [{ requiresConfirmation: true }, { requiresConfirmation: false }], slotsEach: 20 });
  const bookingIds = await mapLimit(Array.from({ length: 40 }), 4, (_, i) => bookAndDrive(server.url, market, i % 2, Math.floor(i / 2), fateOf(i)));
  const rows = await outboxRows(server.database.db, bookingIds);

  const clients = [0, 1].map(() => createSqsClient({ region: REGION, endpoint: emu!.emulator.endpoint, credentials: EMULATOR_CREDENTIALS }));
  try {
    const [a, b] = clients.map((sqs) => new OutboxRelay(server.database.db, sqs, queues, systemClock, silentLog, { claimLimit: 10 }));
    // 40 bookings make 40 claimable first events: more than both claims together, so each gets rows.
    const first = await Promise.all([a!.relayRound(), b!.relayRound()]);
    expect(first.map((r) => r.claimed)).toEqual([10, 10]);
    for (let round = 0; round < 50; round++) {
      const results = await Promise.all([a!.relayRound(), b!.relayRound()]);
      if (results.every((r) => r.claimed === 0)) break;
    }
    // A row claimed by both would be counted by both.
    expect(a!.status().sentTotal + b!.status().sentTotal).toBe(rows.length);
    expect((await outboxRows(server.database.db, bookingIds)).filter((r) => r.publishedAt === null)).toEqual([]);
  } finally {
    for (const c of clients) c.destroy();
  }
  await expectQueuesHoldEachOnce(queues, rows);
});

test("two servers with relays on, sharing one database and the queues, deliver each event once and in order", async () => {
  if (!available || !emu) return;
  const databaseUrl = await freshDatabase();
  const queues = await emu.queues();
  const env = { OUTBOX_RELAY: "on", OUTBOX_RELAY_POLL_MS: "100", ...ADMIN_ENV, ...sqsEnv(emu.emulator.endpoint, queues) };
  for (let i = 0; i < 2; i++) servers.push(await startTestServer({ databaseUrl, env }));
  const [one, two] = servers.slice(-2) as [TestServer, TestServer];
  expect(one.relay?.relay.status().running && two.relay?.relay.status().running).toBe(true);

  const market = await openMarket(one.url, { customers: 4, providers: [{ requiresConfirmation: true }, { requiresConfirmation: false }], slotsEach: 30 });
  // Alternate instances per booking, so both relays are woken by commits while the other polls.
  const bookingIds = await mapLimit(Array.from({ length: 60 }), 6, (_, i) =>
    bookAndDrive((i % 2 === 0 ? one : two).url, market, Math.floor(i / 2) % 2, Math.floor(i / 4) * 2 + (i % 2), fateOf(i)),
  );

  const token = await adminToken(one.url);
  await waitFor("the backlog to empty", async () => (await outboxStatus(one.url, token)).pending === 0, { timeoutMs: 60_000 });
  const rows = await outboxRows(one.database.db, bookingIds);
  const sent = await Promise.all([one, two].map(async (s) => (await outboxStatus(s.url, token)).sentByThisInstance));
  expect(sent[0]! + sent[1]!).toBe(rows.length);
  await expectQueuesHoldEachOnce(queues, rows);
});
