import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Db } from "../../src/db/client";
import { outbox } from "../../src/db/schema";
import { ManualClock } from "../../src/domain/clock";
import { bookingEventEnvelopeSchema } from "../../src/events/envelope";
import { MODE_DATABASE_URL, createPostgresDatabase, requireService } from "../support/backends";
import { startTestServer, type TestServer } from "../support/test-server";
import { historyOf, listen } from "../support/service-world";
import { addSlots, bookSlot, createProvider, registerUser } from "../support/service-factories";
import { sleep, waitFor } from "../support/wait";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = new Date("2031-03-10T08:00:00.000Z");

const opened: TestServer[] = [];
const closeAll = () => Promise.all(opened.splice(0).map((s) => s.close()));
afterEach(closeAll);

type Booted = Awaited<ReturnType<typeof boot>>;
async function boot(opts: { clock?: ManualClock; databaseUrl?: string; env?: Record<string, string> } = {}) {
  const clock = opts.clock ?? new ManualClock(T0);
  const server = await startTestServer({ clock, databaseUrl: opts.databaseUrl, env: opts.env });
  opened.push(server);
  return { server, clock, db: server.database.db };
}

/** A provider with one slot of `minutes` at each of `starts`. */
async function providerWithSlotsAt(server: TestServer, starts: Date[], requiresConfirmation = false, minutes = 60) {
  const owner = await registerUser(server, "PROVIDER");
  const provider = await createProvider(server, owner, { requiresConfirmation });
  const slots = [];
  for (const start of starts) slots.push(...(await addSlots(server, owner, provider.id, { count: 1, slotMinutes: minutes, start })));
  return { owner, providerId: provider.id, slots };
}

/** CONFIRMED bookings (auto-confirming provider, a few customers) of slots of `minutes` at `starts`. */
async function confirmedBookings(server: TestServer, starts: Date[], minutes = 60): Promise<string[]> {
  const { slots } = await providerWithSlotsAt(server, starts, false, minutes);
  const customers = await Promise.all([0, 1, 2].map(() => registerUser(server, "CUSTOMER")));
  const ids: string[] = [];
  for (const [i, slot] of slots.entries()) ids.push((await bookSlot(server, customers[i % 3]!, slot.id)).id);
  return ids;
}

/** A CONFIRMED booking (auto-confirming provider) of a slot starting at `start`. */
async function confirmedBooking(server: TestServer, start: Date) {
  const { owner, slots } = await providerWithSlotsAt(server, [start]);
  const customer = await registerUser(server, "CUSTOMER");
  const { booking } = await server.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
  expect(booking.status).toBe("CONFIRMED");
  return { booking, customer, owner, slot: slots[0]! };
}

/** The reminders in the outbox for a booking, oldest first: `offset@slotStart`. */
async function remindersOf(db: Db, bookingId: string): Promise<string[]> {
  const rows = await db.select().from(outbox).where(and(eq(outbox.bookingId, bookingId), eq(outbox.eventType, "BOOKING_REMINDER"))).orderBy(asc(outbox.id));
  return rows.map((r) => bookingEventEnvelopeSchema.strict().parse(r.payload)).map((e) => `${e.reminderOffsetMinutes}@${e.slotStart}`);
}

const at = (start: Date, offsetMinutes: number) => `${offsetMinutes}@${start.toISOString()}`;
const before = (start: Date, ms: number) => new Date(start.getTime() - ms);

async function runTimes(server: TestServer, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await server.services.reminder.sendDueReminders());
  return out;
}

test("a CONFIRMED booking gets BOOKING_REMINDER(1440) at start-24h and (60) at start-1h, each once however often the worker runs", async () => {
  const { server, clock, db } = await boot();
  expect(server.config.reminderOffsetsMinutes).toEqual([1440, 60]);
  const start = new Date(T0.getTime() + 72 * HOUR);
  const { booking, customer, slot } = await confirmedBooking(server, start);
  const historyBefore = await historyOf(db, booking.id);
  const live = listen(server.pubSub, "BOOKING_EVENTS", booking.id);

  expect(await runTimes(server, 2)).toEqual([0, 0]);
  clock.set(before(start, 24 * HOUR + 1));
  expect(await runTimes(server, 2)).toEqual([0, 0]);
  expect(await remindersOf(db, booking.id)).toEqual([]);

  clock.set(before(start, 24 * HOUR));
  expect(await runTimes(server, 5)).toEqual([1, 0, 0, 0, 0]);
  expect(await remindersOf(db, booking.id)).toEqual([at(start, 1440)]);
  const [row] = await db.select().from(outbox).where(and(eq(outbox.bookingId, booking.id), eq(outbox.eventType, "BOOKING_REMINDER")));
  expect(bookingEventEnvelopeSchema.strict().parse(row!.payload)).toEqual({
    ...{ eventId: row!.eventId, eventType: "BOOKING_REMINDER", version: 1, timestamp: clock.now().toISOString(), reminderOffsetMinutes: 1440 },
    ...{ bookingId: booking.id, providerId: booking.providerId, slotId: slot.id, userId: customer.userId },
    ...{ slotStart: start.toISOString(), slotEnd: slot.endsAt.toISOString(), status: "CONFIRMED", previousStatus: "CONFIRMED", actorId: "system", reason: null },
  });

  clock.set(before(start, HOUR + 1));
  expect(await runTimes(server, 2)).toEqual([0, 0]);
  clock.set(before(start, HOUR));
  expect(await runTimes(server, 5)).toEqual([1, 0, 0, 0, 0]);
  clock.set(new Date(start.getTime() + MINUTE));
  expect(await runTimes(server, 2)).toEqual([0, 0]);
  expect(await remindersOf(db, booking.id)).toEqual([at(start, 1440), at(start, 60)]);

  // A reminder is not a status change: history is untouched; subscribers still hear it.
  expect(await historyOf(db, booking.id)).toEqual(historyBefore);
  await waitFor("both live reminders", async () => live.messages.length >= 2, { timeoutMs: 10_000 });
  expect(live.messages.map((m) => [m.event.eventType, m.event.reminderOffsetMinutes])).toEqual([
    ["BOOKING_REMINDER", 1440],
    ["BOOKING_REMINDER", 60],
  ]);
  await live.stop();
});

test("a booking confirmed inside both windows gets only the 60-minute reminder; one confirmed between them gets both", async () => {
  const { server, clock, db } = await boot();
  const lateStart = new Date(T0.getTime() + 48 * HOUR);
  const midStart = new Date(T0.getTime() + 49 * HOUR);
  const { owner, slots } = await providerWithSlotsAt(server, [lateStart, midStart], true);
  const customer = await registerUser(server, "CUSTOMER");

  clock.set(before(midStart, 20 * HOUR + 5 * MINUTE));
  const { booking: mid } = await server.services.bookingCreate.createBooking(customer, { slotId: slots[1]!.id });
  clock.advance(5 * MINUTE);
  await server.services.bookingTransition.acceptBooking(owner, mid.id);
  await runTimes(server, 3);
  expect(await remindersOf(db, mid.id)).toEqual([at(midStart, 1440)]);

  clock.set(before(lateStart, 55 * MINUTE));
  const { booking: late } = await server.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
  await runTimes(server, 2);
  expect(await remindersOf(db, late.id)).toEqual([]);
  clock.advance(5 * MINUTE);
  await server.services.bookingTransition.acceptBooking(owner, late.id);
  await runTimes(server, 3);
  expect(await remindersOf(db, late.id)).toEqual([at(lateStart, 60)]);

  clock.set(before(midStart, HOUR));
  await runTimes(server, 3);
  expect(await remindersOf(db, mid.id)).toEqual([at(midStart, 1440), at(midStart, 60)]);
  expect(await remindersOf(db, late.id)).toEqual([at(lateStart, 60)]);
});

test("no reminder for a booking cancelled before it is due, nor for a PENDING one; cancelling between reminders stops the second", async () => {
  const { server, clock, db } = await boot();
  const start = new Date(T0.getTime() + 72 * HOUR);
  const early = await confirmedBooking(server, start);
  const between = await confirmedBooking(server, start);
  const { slots } = await providerWithSlotsAt(server, [start], true);
  const customer = await registerUser(server, "CUSTOMER");

  clock.set(before(start, 25 * HOUR));
  await server.services.bookingTransition.cancelBooking(early.customer, early.booking.id, "plans changed");
  // Never answered: its hold lapses, but no worker expires it here, so it stays PENDING.
  const { booking: pending } = await server.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });

  clock.set(before(start, 24 * HOUR));
  await runTimes(server, 3);
  expect(await remindersOf(db, between.booking.id)).toEqual([at(start, 1440)]);
  clock.set(before(start, 2 * HOUR));
  await server.services.bookingTransition.cancelBooking(between.owner, between.booking.id, "closed");
  clock.set(before(start, HOUR));
  await runTimes(server, 3);
  clock.set(before(start, MINUTE));
  await runTimes(server, 3);

  expect(await remindersOf(db, early.booking.id)).toEqual([]);
  expect(await remindersOf(db, pending.id)).toEqual([]);
  expect(await remindersOf(db, between.booking.id)).toEqual([at(start, 1440)]);
});

test("after rescheduleBooking to a later slot, reminders follow the new start and none is sent for the old one", async () => {
  const { server, clock, db } = await boot();
  const oldStart = new Date(T0.getTime() + 48 * HOUR);
  const newStart = new Date(oldStart.getTime() + 30 * HOUR);
  const { slots } = await providerWithSlotsAt(server, [oldStart, newStart]);
  const customer = await registerUser(server, "CUSTOMER");
  const { booking } = await server.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });

  clock.set(before(oldStart, 24 * HOUR));
  await runTimes(server, 2);
  expect(await remindersOf(db, booking.id)).toEqual([at(oldStart, 1440)]);

  clock.set(before(oldStart, 3 * HOUR));
  const moved = await server.services.bookingReschedule.rescheduleBooking(customer, booking.id, slots[1]!.id);
  expect(moved).toMatchObject({ id: booking.id, slotId: slots[1]!.id, status: "CONFIRMED" });
  await runTimes(server, 2);
  // The new start is 33 h away: nothing is due for it yet, and the old start is no longer this booking's.
  clock.set(before(oldStart, HOUR));
  await runTimes(server, 3);
  expect(await remindersOf(db, booking.id)).toEqual([at(oldStart, 1440)]);

  clock.set(before(newStart, 24 * HOUR));
  await runTimes(server, 3);
  clock.set(before(newStart, HOUR));
  await runTimes(server, 3);
  expect(await remindersOf(db, booking.id)).toEqual([at(oldStart, 1440), at(newStart, 1440), at(newStart, 60)]);
});

test("reminders survive a restart: a new server on the same database does not send them again", async () => {
  // In the embedded pass the database is a PGlite directory on disk, so it outlives the server.
  const pg = MODE_DATABASE_URL ? await createPostgresDatabase(MODE_DATABASE_URL) : undefined;
  const dir = pg ? undefined : await mkdtemp(path.join(tmpdir(), "slotwise-reminders-"));
  const sameDatabase = pg ? { databaseUrl: pg.url } : { env: { PGLITE_DIR: dir! } };
  try {
    const clock = new ManualClock(T0);
    const start = new Date(T0.getTime() + 72 * HOUR);
    const first = await boot({ clock, ...sameDatabase });
    const { booking } = await confirmedBooking(first.server, start);
    clock.set(before(start, 24 * HOUR));
    expect(await runTimes(first.server, 2)).toEqual([1, 0]);
    await closeAll();

    const second = await boot({ clock, ...sameDatabase });
    expect(await runTimes(second.server, 3)).toEqual([0, 0, 0]);
    clock.set(before(start, HOUR));
    expect(await runTimes(second.server, 2)).toEqual([1, 0]);
    await closeAll();

    const third = await boot({ clock, ...sameDatabase });
    expect(await runTimes(third.server, 3)).toEqual([0, 0, 0]);
    expect(await remindersOf(third.db, booking.id)).toEqual([at(start, 1440), at(start, 60)]);
  } finally {
    await closeAll();
    await pg?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});

// Regression: the batch used to take the `limit` soonest CONFIRMED bookings whether or not
// anything was still due for them, so already-reminded bookings starved later ones.
test("a batch limit does not starve later bookings: repeated small batches remind every due booking", async () => {
  const { server, clock, db } = await boot();
  const first = new Date(T0.getTime() + 48 * HOUR);
  const starts = [0, 1, 2, 3, 4].map((i) => new Date(first.getTime() + i * HOUR));
  const ids = await confirmedBookings(server, starts);

  clock.set(before(starts[4]!, 24 * HOUR));
  for (let i = 0; i < 6; i++) await server.services.reminder.sendDueReminders(2);

  for (const [i, id] of ids.entries()) expect(await remindersOf(db, id)).toEqual([at(starts[i]!, 1440)]);
});

/** Reminder events per booking and offset, e.g. { "<id>:1440": 1 }. */
async function reminderCounts(db: Db, ids: string[]): Promise<Record<string, number>> {
  const rows = await db.select().from(outbox).where(and(inArray(outbox.bookingId, ids), eq(outbox.eventType, "BOOKING_REMINDER")));
  const out: Record<string, number> = {};
  for (const r of rows) {
    const key = `${r.bookingId}:${bookingEventEnvelopeSchema.parse(r.payload).reminderOffsetMinutes}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
const eachOnce = (ids: string[], offsets: number[]) => Object.fromEntries(ids.flatMap((id) => offsets.map((o) => [`${id}:${o}`, 1])));

/** Back-to-back 5-minute slots from `start`: close enough to be inside both reminder windows at once. */
const fiveMinuteStarts = (start: Date, count: number) => Array.from({ length: count }, (_, i) => new Date(start.getTime() + i * 5 * MINUTE));

/** Runs `fn` on two servers sharing one fresh PostgreSQL database and one clock. */
async function onTwoServers(env: Record<string, string>, fn: (a: Booted, b: Booted, clock: ManualClock) => Promise<void>): Promise<void> {
  if (!(await requireService("postgres"))) return;
  const pg = await createPostgresDatabase();
  try {
    const clock = new ManualClock(T0);
    await fn(await boot({ clock, databaseUrl: pg.url, env }), await boot({ clock, databaseUrl: pg.url, env }), clock);
  } finally {
    await closeAll();
    await pg.drop();
  }
}

test("two servers on one PostgreSQL database sending at once emit each reminder exactly once", () =>
  onTwoServers({}, async (a, b, clock) => {
    const start = new Date(T0.getTime() + 48 * HOUR);
    const ids = await confirmedBookings(a.server, fiveMinuteStarts(start, 12), 5);
    const last = new Date(start.getTime() + 55 * MINUTE);
    const race = () => Promise.all([a, b, a, b, a, b].map((s) => s.server.services.reminder.sendDueReminders()));

    clock.set(before(last, 24 * HOUR));
    expect((await race()).reduce((x, y) => x + y, 0)).toBe(12);
    clock.set(before(last, HOUR));
    expect((await Promise.all([race(), race()])).flat().reduce((x, y) => x + y, 0)).toBe(12);

    expect(await reminderCounts(a.db, ids)).toEqual(eachOnce(ids, [1440, 60]));
  }), 120_000);

test("two servers with real workers running on one PostgreSQL database emit each reminder exactly once", () =>
  onTwoServers({ WORKERS: "on", WORKER_INTERVAL_MS: "50" }, async (a, _b, clock) => {
    const start = new Date(T0.getTime() + 48 * HOUR);
    const ids = await confirmedBookings(a.server, fiveMinuteStarts(start, 6), 5);
    const last = new Date(start.getTime() + 25 * MINUTE);

    clock.set(before(last, 24 * HOUR));
    await waitFor("the 24 h reminders", async () => Object.keys(await reminderCounts(a.db, ids)).length === 6);
    clock.set(before(last, HOUR));
    await waitFor("the 1 h reminders", async () => Object.keys(await reminderCounts(a.db, ids)).length === 12);
    // Let both workers go round a few more times before counting.
    await sleep(500);

    expect(await reminderCounts(a.db, ids)).toEqual(eachOnce(ids, [1440, 60]));
  }), 120_000);
