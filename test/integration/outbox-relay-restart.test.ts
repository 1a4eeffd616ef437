import { claimOutboxBatch } from "../../src/db/repositories/outbox.repository";
import { ManualClock, systemClock } from "../../src/domain/clock";
import { OutboxRelay } from "../../src/events/outbox-relay";
import type { QueueUrls } from "../../src/events/queue-setup";
import {
  bookAndDrive,
  drainQueue,
  expectEachOnce,
  expectPerBookingOrder,
  fateOf,
  openMarket,
  outboxRows,
  silentLog,
  useRelayServer,
  type Received,
} from "../support/outbox-relay-world";
import { waitFor } from "../support/wait";
import { mapLimit } from "../support/map-limit";

// Relays that stop or die part-way: a clean stop finishes its round and leaves no lease
// behind; a crash leaves a lease that expires, and then another relay ships the rows.
// The server's own relay is off: the tests drive real OutboxRelay instances on its database.

// Servers, argon2 hashes and an emulator on two cores shared with other suites: generous limits, never asserted on.
jest.setTimeout(180_000);

const world = useRelayServer();

/** `count` bookings through mixed lifecycles, with no relay running; returns their booking ids. */
async function makeBookings(count: number): Promise<string[]> {
  const market = await openMarket(world.server!.url, {
    customers: 3,
    providers: [{ requiresConfirmation: true }, { requiresConfirmation: false }],
    slotsEach: Math.ceil(count / 2),
  });
  return mapLimit(Array.from({ length: count }), 4, (_, i) => bookAndDrive(world.server!.url, market, i % 2, Math.floor(i / 2), fateOf(i)));
}

async function drainAll(queues: QueueUrls, expected?: { request: number; confirmation: number; events: number }) {
  return {
    request: await drainQueue(world.emu!.sqs, queues.bookingRequest, { expected: expected?.request }),
    confirmation: await drainQueue(world.emu!.sqs, queues.bookingConfirmation, { expected: expected?.confirmation }),
    events: await drainQueue(world.emu!.sqs, queues.bookingEvents, { expected: expected?.events }),
  };
}

function expectDeliveredOnce(
  got: { request: Received[]; confirmation: Received[]; events: Received[] },
  rows: Awaited<ReturnType<typeof outboxRows>>,
): void {
  expectEachOnce(got.request, rows.filter((r) => r.eventType === "BOOKING_CREATED"));
  expectEachOnce(got.confirmation, rows.filter((r) => r.eventType === "BOOKING_CONFIRMED"));
  expectEachOnce(got.events, rows);
  expectPerBookingOrder(got.events, rows);
}

const expectedCounts = (rows: Awaited<ReturnType<typeof outboxRows>>) => ({
  request: rows.filter((r) => r.eventType === "BOOKING_CREATED").length,
  confirmation: rows.filter((r) => r.eventType === "BOOKING_CONFIRMED").length,
  events: rows.length,
});

test("a relay stopped during a round finishes it, and a new relay ships the rest: nothing lost, nothing twice", async () => {
  const { available, server, emu } = world;
  if (!available || !server || !emu) return;
  const db = server.database.db;
  const queues = await emu.queues();
  const bookingIds = await makeBookings(24);
  const rows = await outboxRows(db, bookingIds);
  expect(rows.every((r) => r.publishedAt === null)).toBe(true);

  const first = new OutboxRelay(db, emu.sqs, queues, systemClock, silentLog, { claimLimit: 4, pollIntervalMs: 50 });
  first.start();
  // The loop is inside its first claim now; stop() must let that round finish, then exit.
  await first.stop();
  expect(first.status().running).toBe(false);
  const afterStop = await outboxRows(db, bookingIds);
  const published = afterStop.filter((r) => r.publishedAt !== null);
  expect(published).toHaveLength(4);
  expect(afterStop.filter((r) => r.publishedAt === null && r.claimedUntil !== null)).toEqual([]);

  const second = new OutboxRelay(db, emu.sqs, queues, systemClock, silentLog, { claimLimit: 4, pollIntervalMs: 50 });
  second.start();
  try {
    await waitFor("every row to be published", async () => (await outboxRows(db, bookingIds)).every((r) => r.publishedAt !== null), { timeoutMs: 60_000 });
  } finally {
    await second.stop();
  }
  expect(first.status().sentTotal + second.status().sentTotal).toBe(rows.length);
  expectDeliveredOnce(await drainAll(queues, expectedCounts(rows)), rows);
});

test("rows claimed by a relay that died are shipped by another relay once the lease expires", async () => {
  const { available, server, emu } = world;
  if (!available || !server || !emu) return;
  const db = server.database.db;
  const queues = await emu.queues();
  const bookingIds = await makeBookings(10);
  const rows = await outboxRows(db, bookingIds);

  // The dead relay: it claimed rows (lease 60 s) and never sent or marked them.
  const t0 = new Date();
  const leaseMs = 60_000;
  const orphaned = await claimOutboxBatch(db, { limit: 5, now: t0, leaseUntil: new Date(t0.getTime() + leaseMs) });
  expect(orphaned).toHaveLength(5);
  const heldBookings = new Set(orphaned.map((r) => r.bookingId));

  const clock = new ManualClock(t0);
  const survivor = new OutboxRelay(db, emu.sqs, queues, clock, silentLog, { claimLimit: 50, leaseMs: 30_000 });
  await survivor.drain();
  const midway = await outboxRows(db, bookingIds);
  // While the lease holds, the orphaned rows and every later event of their bookings wait.
  const waiting = midway.filter((r) => r.publishedAt === null);
  expect(waiting.map((r) => r.id)).toEqual(rows.filter((r) => heldBookings.has(r.bookingId)).map((r) => r.id));
  const shipped = midway.filter((r) => r.publishedAt !== null);
  const firstPass = await drainAll(queues, expectedCounts(shipped));
  expectEachOnce(firstPass.events, shipped);

  clock.advance(leaseMs + 1);
  await survivor.drain();
  const final = await outboxRows(db, bookingIds);
  expect(final.filter((r) => r.publishedAt === null || r.claimedUntil !== null)).toEqual([]);

  const secondPass = await drainAll(queues, expectedCounts(waiting));
  expectDeliveredOnce(
    {
      request: [...firstPass.request, ...secondPass.request],
      confirmation: [...firstPass.confirmation, ...secondPass.confirmation],
      events: [...firstPass.events, ...secondPass.events],
    },
    rows,
  );
});
