import { AcceptBookingDocument, CancelBookingDocument, RejectBookingDocument } from "../generated/graphql";
import { createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { addSlots, bookSlot, createProvider, registerUser } from "../support/factories";
import { executeOk } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import {
  ADMIN_ENV,
  adminToken,
  drainQueue,
  expectEachOnce,
  expectPerBookingOrder,
  outboxRows,
  outboxStatus,
  sqsEnv,
  startEmulator,
  useEmulatorCredentialsInEnv,
  type Emulator,
  type Received,
} from "../support/outbox-relay-world";
import { EMULATOR_CREDENTIALS, createSqsClient } from "../../src/events/queue-setup";
import type { OutboxRow } from "../../src/db/schema";
import { waitFor } from "../support/wait";

// Routing, attributes and bodies of what the relay ships, checked on the queues themselves.
// The issue asks for this on real PostgreSQL; the embedded default (PGlite, `npm start` with
// nothing configured) runs the same lifecycle check too.

// Servers, argon2 hashes and an emulator on two cores shared with other suites: generous limits, never asserted on.
jest.setTimeout(180_000);

const RELAY_ENV = { OUTBOX_RELAY: "on", OUTBOX_RELAY_POLL_MS: "100", ...ADMIN_ENV };

/** Three bookings through every lifecycle path: accept then cancel, reject, auto-confirm. */
async function runLifecycles(url: string): Promise<{ bookingIds: string[] }> {
  const customer = await registerUser(url, "CUSTOMER");
  const manualOwner = await registerUser(url, "PROVIDER");
  const manual = await createProvider(url, manualOwner, { requiresConfirmation: true });
  const manualSlots = await addSlots(url, manualOwner, manual.id, { count: 2 });
  const autoOwner = await registerUser(url, "PROVIDER");
  const auto = await createProvider(url, autoOwner, { requiresConfirmation: false });
  const autoSlots = await addSlots(url, autoOwner, auto.id, { count: 1 });

  const accepted = await bookSlot(url, customer, manualSlots[0]!.id);
  await executeOk(url, AcceptBookingDocument, { id: accepted.id }, manualOwner.token);
  await executeOk(url, CancelBookingDocument, { id: accepted.id, reason: "cannot make it" }, customer.token);
  const rejected = await bookSlot(url, customer, manualSlots[1]!.id);
  await executeOk(url, RejectBookingDocument, { id: rejected.id, reason: "on holiday" }, manualOwner.token);
  const autoConfirmed = await bookSlot(url, customer, autoSlots[0]!.id);
  return { bookingIds: [accepted.id, rejected.id, autoConfirmed.id] };
}

/** Each message's attributes and body match the outbox row of its event. */
function expectMatchesOutbox(messages: readonly Received[], rows: readonly OutboxRow[]): void {
  const byEventId = new Map(rows.map((r) => [r.eventId, r]));
  for (const m of messages) {
    const row = byEventId.get(m.envelope.eventId);
    expect(row).toBeDefined();
    expect(m.envelope).toEqual(row!.payload);
    expect(m.attrs).toEqual({ eventType: row!.eventType, bookingId: row!.bookingId, providerId: (row!.payload as { providerId: string }).providerId });
  }
}

const BACKENDS = [
  { name: "PostgreSQL", postgres: true },
  { name: "PGlite (embedded default)", postgres: false },
] as const;

describe.each(BACKENDS)("outbox relay on $name with the embedded SQS emulator", ({ postgres }) => {
  let available = false;
  let database: TestDatabase | undefined;
  let server: TestServer | undefined;

  beforeAll(async () => {
    available = postgres ? await requireService("postgres") : true;
    if (!available) return;
    database = postgres ? await createPostgresDatabase() : undefined;
    server = await startTestServer({
      databaseUrl: database?.url,
      env: { ...RELAY_ENV, ...(postgres ? {} : { DATABASE_URL: "" }) },
    });
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  test("every lifecycle event reaches its queues once, with its attributes and the outbox body", async () => {
    if (!available || !server) return;
    expect(server.database.kind).toBe(postgres ? "postgres" : "pglite");
    const emulator = server.relay?.emulator;
    expect(emulator).toBeDefined();
    const queues = emulator!.queueUrls;
    expect(server.relay!.routes).toEqual(queues);

    const { bookingIds } = await runLifecycles(server.url);
    const rows = await outboxRows(server.database.db, bookingIds);
    const types = (id: string) => rows.filter((r) => r.bookingId === id).map((r) => r.eventType);
    expect(bookingIds.map(types)).toEqual([
      ["BOOKING_CREATED", "BOOKING_CONFIRMED", "BOOKING_CANCELLED"],
      ["BOOKING_CREATED", "BOOKING_REJECTED"],
      ["BOOKING_CREATED", "BOOKING_CONFIRMED"],
    ]);

    const token = await adminToken(server.url);
    const status = await waitFor("the backlog to empty", async () => {
      const s = await outboxStatus(server!.url, token);
      return s.pending === 0 ? s : undefined;
    }, { timeoutMs: 60_000 });
    expect(status).toMatchObject({ pending: 0, oldestPendingAt: null, lastError: null, relayRunning: true });
    expect(status.sentByThisInstance).toBeGreaterThanOrEqual(rows.length);

    const sqs = createSqsClient({ region: "us-east-1", endpoint: emulator!.endpoint, credentials: EMULATOR_CREDENTIALS });
    try {
      const created = rows.filter((r) => r.eventType === "BOOKING_CREATED");
      const confirmed = rows.filter((r) => r.eventType === "BOOKING_CONFIRMED");
      const requestQueue = await drainQueue(sqs, queues.bookingRequest, { expected: created.length });
      const confirmationQueue = await drainQueue(sqs, queues.bookingConfirmation, { expected: confirmed.length });
      const eventsQueue = await drainQueue(sqs, queues.bookingEvents, { expected: rows.length });

      expectEachOnce(requestQueue, created);
      expectEachOnce(confirmationQueue, confirmed);
      expectEachOnce(eventsQueue, rows);
      for (const q of [requestQueue, confirmationQueue, eventsQueue]) expectMatchesOutbox(q, rows);
      expectPerBookingOrder(eventsQueue, rows);
    } finally {
      sqs.destroy();
    }
  });
});

describe("a queue left unset", () => {
  let available = false;
  let database: TestDatabase | undefined;
  let server: TestServer | undefined;
  let emu: Emulator | undefined;

  beforeAll(async () => {
    available = await requireService("postgres");
    if (!available) return;
    useEmulatorCredentialsInEnv();
    emu = await startEmulator();
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
    await emu?.stop();
  });

  test("receives nothing when only SQS_BOOKING_EVENTS_QUEUE_URL is set", async () => {
    if (!available || !emu) return;
    const queues = await emu.queues();
    database = await createPostgresDatabase();
    server = await startTestServer({
      databaseUrl: database.url,
      env: { ...RELAY_ENV, ...sqsEnv(emu.emulator.endpoint, { bookingEvents: queues.bookingEvents }) },
    });
    // Configured SQS means no embedded emulator: the relay uses the endpoint it was given.
    expect(server.relay?.emulator).toBeUndefined();
    expect(server.relay?.routes).toEqual({ bookingEvents: queues.bookingEvents });

    const { bookingIds } = await runLifecycles(server.url);
    const rows = await outboxRows(server.database.db, bookingIds);
    expect(rows.map((r) => r.eventType)).toEqual(expect.arrayContaining(["BOOKING_CREATED", "BOOKING_CONFIRMED"]));

    const token = await adminToken(server.url);
    await waitFor("the backlog to empty", async () => (await outboxStatus(server!.url, token)).pending === 0, { timeoutMs: 60_000 });

    // Every row is published, so anything routed to the other queues would be there by now.
    const eventsQueue = await drainQueue(emu.sqs, queues.bookingEvents, { expected: rows.length });
    expectEachOnce(eventsQueue, rows);
    expectPerBookingOrder(eventsQueue, rows);
    expect(await drainQueue(emu.sqs, queues.bookingRequest)).toEqual([]);
    expect(await drainQueue(emu.sqs, queues.bookingConfirmation)).toEqual([]);
  });
});
