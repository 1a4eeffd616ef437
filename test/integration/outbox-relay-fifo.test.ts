import { eq } from "drizzle-orm";
import { outbox } from "../../src/db/schema";
import { isFifoQueue } from "../../src/events/sqs-routing";
import { createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { startTestServer, type TestServer } from "../support/test-server";
import {
  ADMIN_ENV,
  adminToken,
  bookAndDrive,
  drainQueue,
  expectEachOnce,
  expectPerBookingOrder,
  openMarket,
  outboxRows,
  outboxStatus,
  sqsEnv,
  startEmulator,
  useEmulatorCredentialsInEnv,
  type Emulator,
  type Received,
} from "../support/outbox-relay-world";
import { waitFor } from "../support/wait";

// FIFO queues: the booking is the message group and the event id the deduplication id, so
// a resend of an event (a relay that crashed after sending, before marking) is dropped by
// the queue itself.

// Servers, argon2 hashes and an emulator on two cores shared with other suites: generous limits, never asserted on.
jest.setTimeout(180_000);

let available = false;
let database: TestDatabase | undefined;
let server: TestServer | undefined;
let emu: Emulator | undefined;

beforeAll(async () => {
  available = await requireService("postgres");
  if (!available) return;
  useEmulatorCredentialsInEnv();
  emu = await startEmulator();
  database = await createPostgresDatabase();
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
  await emu?.stop();
});

function expectFifoKeys(messages: readonly Received[]): void {
  for (const m of messages) {
    expect(m.groupId).toBe(m.envelope.bookingId);
    expect(m.dedupId).toBe(m.envelope.eventId);
    expect(m.attrs.bookingId).toBe(m.envelope.bookingId);
  }
}

test("FIFO queues get MessageGroupId = booking id, MessageDeduplicationId = event id, and drop a resent event", async () => {
  if (!available || !emu || !database) return;
  const queues = await emu.queues({ fifo: true });
  expect(Object.values(queues).every(isFifoQueue)).toBe(true);
  server = await startTestServer({
    databaseUrl: database.url,
    env: { OUTBOX_RELAY: "on", OUTBOX_RELAY_POLL_MS: "100", ...ADMIN_ENV, ...sqsEnv(emu.emulator.endpoint, queues) },
  });
  const url = server.url;
  const market = await openMarket(url, {
    customers: 2,
    providers: [{ requiresConfirmation: true }, { requiresConfirmation: false }],
    slotsEach: 3,
  });
  const bookingIds = [
    await bookAndDrive(url, market, 0, 0, "accept-cancel"),
    await bookAndDrive(url, market, 0, 1, "reject"),
    await bookAndDrive(url, market, 1, 0, "accept-cancel"),
    await bookAndDrive(url, market, 1, 1, "keep"),
  ];
  const token = await adminToken(url);
  await waitFor("the backlog to empty", async () => (await outboxStatus(url, token)).pending === 0, { timeoutMs: 60_000 });
  const rows = await outboxRows(server.database.db, bookingIds);

  // Send one event a second time, as a relay would after a crash between send and mark.
  const resent = rows.find((r) => r.eventType === "BOOKING_CONFIRMED")!;
  const [before] = await server.database.db.select().from(outbox).where(eq(outbox.id, resent.id));
  await server.database.db
    .update(outbox)
    .set({ publishedAt: null, deliveredQueues: [], claimedUntil: null })
    .where(eq(outbox.id, resent.id));
  server.relay!.relay.wake();
  const after = await waitFor("the reset row to be published again", async () => {
    const [r] = await server!.database.db.select().from(outbox).where(eq(outbox.id, resent.id));
    return r?.publishedAt ? r : undefined;
  }, { timeoutMs: 60_000 });
  // The relay really sent it again (one more claim, and SQS accepted it), it was not skipped.
  expect(after.attempts).toBe(before!.attempts + 1);
  expect(after.publishedAt!.getTime()).toBeGreaterThan(before!.publishedAt!.getTime());

  const created = rows.filter((r) => r.eventType === "BOOKING_CREATED");
  const confirmed = rows.filter((r) => r.eventType === "BOOKING_CONFIRMED");
  const requestQueue = await drainQueue(emu.sqs, queues.bookingRequest, { expected: created.length });
  const confirmationQueue = await drainQueue(emu.sqs, queues.bookingConfirmation, { expected: confirmed.length });
  const eventsQueue = await drainQueue(emu.sqs, queues.bookingEvents, { expected: rows.length });

  expectEachOnce(requestQueue, created);
  expectEachOnce(confirmationQueue, confirmed);
  expectEachOnce(eventsQueue, rows);
  for (const q of [requestQueue, confirmationQueue, eventsQueue]) expectFifoKeys(q);
  expectPerBookingOrder(eventsQueue, rows);
});
