import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../../src/db/client";
import { bookingStatusChanges, outbox } from "../../src/db/schema";
import { ManualClock } from "../../src/domain/clock";
import { bookingEventEnvelopeSchema } from "../../src/events/envelope";
import { HOLD_EXPIRED_REASON } from "../../src/services/booking-expiry.service";
import { createPostgresDatabase, requireService } from "../support/backends";
import { startTestServer, type TestServer } from "../support/test-server";
import { bookingRow, historyOf, listen, outboxOf, rejection, slotStatus } from "../support/service-world";
import { bookSlot, providerWithSlots, registerUser } from "../support/service-factories";
import { sleep, waitFor } from "../support/wait";

const MINUTE = 60_000;
const T0 = new Date("2031-03-10T08:00:00.000Z");

// One server per test: each test moves its own clock.
const opened: TestServer[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function boot(opts: { databaseUrl?: string; env?: Record<string, string>; clock?: ManualClock } = {}) {
  const clock = opts.clock ?? new ManualClock(T0);
  const server = await startTestServer({ clock, databaseUrl: opts.databaseUrl, env: opts.env });
  opened.push(server);
  return { server, clock, db: server.database.db, holdMs: server.config.bookingHoldMinutes * MINUTE };
}

async function expiredHistoryCount(db: Db, bookingIds: string[]) {
  const rows = await db
    .select({ bookingId: bookingStatusChanges.bookingId })
    .from(bookingStatusChanges)
    .where(and(inArray(bookingStatusChanges.bookingId, bookingIds), eq(bookingStatusChanges.toStatus, "EXPIRED")));
  return countBy(rows.map((r) => r.bookingId));
}

async function expiredEventCount(db: Db, bookingIds: string[]) {
  const rows = await db
    .select({ bookingId: outbox.bookingId })
    .from(outbox)
    .where(and(inArray(outbox.bookingId, bookingIds), eq(outbox.eventType, "BOOKING_EXPIRED")));
  return countBy(rows.map((r) => r.bookingId));
}

function countBy(ids: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = (out[id] ?? 0) + 1;
  return out;
}

const once = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, 1]));

test("nothing expires before holdExpiresAt; at the deadline the booking is EXPIRED, its slot AVAILABLE, with history and one BOOKING_EXPIRED event", async () => {
  const { server, clock, db, holdMs } = await boot();
  const { owner, providerId, slots } = await providerWithSlots(server, { count: 3 });
  const customer = await registerUser(server, "CUSTOMER");
  const { booking } = await server.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
  expect(booking.holdExpiresAt).toEqual(new Date(T0.getTime() + holdMs));
  // Answered in time, and held longer: neither may be touched by the run that expires `booking`.
  const { booking: answered } = await server.services.bookingCreate.createBooking(customer, { slotId: slots[1]!.id });
  await server.services.bookingTransition.acceptBooking(owner, answered.id);
  const live = listen(server.pubSub, "BOOKING_EVENTS", booking.id);

  clock.set(new Date(booking.holdExpiresAt!.getTime() - 1));
  const { booking: later } = await server.services.bookingCreate.createBooking(customer, { slotId: slots[2]!.id });
  await server.services.bookingExpiry.expireLapsedHolds();
  expect((await bookingRow(db, booking.id))!.status).toBe("PENDING");
  expect(await slotStatus(db, slots[0]!.id)).toBe("HELD");
  expect((await outboxOf(db, booking.id)).map((e) => e.eventType)).toEqual(["BOOKING_CREATED"]);

  clock.set(booking.holdExpiresAt!);
  const deadline = clock.now();
  await server.services.bookingExpiry.expireLapsedHolds();

  expect(await bookingRow(db, booking.id)).toMatchObject({ status: "EXPIRED", reason: HOLD_EXPIRED_REASON, updatedAt: deadline });
  expect(await slotStatus(db, slots[0]!.id)).toBe("AVAILABLE");
  expect((await historyOf(db, booking.id)).slice(1)).toEqual([{ from: "PENDING", to: "EXPIRED", actor: null, reason: HOLD_EXPIRED_REASON, at: deadline }]);
  const events = await outboxOf(db, booking.id);
  expect(events.map((e) => e.eventType)).toEqual(["BOOKING_CREATED", "BOOKING_EXPIRED"]);
  const envelope = bookingEventEnvelopeSchema.strict().parse(events[1]!.payload);
  expect(envelope).toMatchObject({
    eventType: "BOOKING_EXPIRED",
    bookingId: booking.id,
    providerId,
    slotId: slots[0]!.id,
    userId: customer.userId,
    status: "EXPIRED",
    previousStatus: "PENDING",
    actorId: "system",
    reason: HOLD_EXPIRED_REASON,
    timestamp: deadline.toISOString(),
  });

  expect((await bookingRow(db, answered.id))!.status).toBe("CONFIRMED");
  expect(await slotStatus(db, slots[1]!.id)).toBe("BOOKED");
  expect((await bookingRow(db, later.id))!.status).toBe("PENDING");
  expect(await slotStatus(db, slots[2]!.id)).toBe("HELD");

  // Subscribers hear about it too (Redis delivery in the PostgreSQL pass is asynchronous).
  await waitFor("the live BOOKING_EXPIRED message", async () => live.messages.length > 0, { timeoutMs: 10_000 });
  expect(live.messages.map((m) => m.event.eventType)).toEqual(["BOOKING_EXPIRED"]);
  await live.stop();

  // The slot is on sale again, and a second run changes nothing.
  const onSale = await server.services.provider.availableSlots(providerId, slots[0]!.startsAt, slots[0]!.endsAt);
  expect(onSale.map((s) => s.id)).toEqual([slots[0]!.id]);
  await server.services.bookingExpiry.expireLapsedHolds();
  expect(await expiredHistoryCount(db, [booking.id])).toEqual(once([booking.id]));
  expect(await expiredEventCount(db, [booking.id])).toEqual(once([booking.id]));
  const late = await rejection(() => server.services.bookingTransition.acceptBooking(owner, booking.id));
  expect(late).toMatchObject({ code: "CONFLICT", reason: "INVALID_TRANSITION" });
});

test("createBooking on a slot whose hold has lapsed succeeds before the worker runs, and expires the old booking with its event", async () => {
  const { server, clock, db } = await boot();
  const { slots } = await providerWithSlots(server, { count: 1 });
  const [first, second] = [await registerUser(server, "CUSTOMER"), await registerUser(server, "CUSTOMER")];
  const { booking: old } = await server.services.bookingCreate.createBooking(first, { slotId: slots[0]!.id });

  clock.set(new Date(old.holdExpiresAt!.getTime() - 1));
  const early = await rejection(() => server.services.bookingCreate.createBooking(second, { slotId: slots[0]!.id }));
  expect(early).toMatchObject({ code: "CONFLICT", reason: "SLOT_UNAVAILABLE" });
  expect((await bookingRow(db, old.id))!.status).toBe("PENDING");

  clock.set(old.holdExpiresAt!);
  const { booking: fresh, created } = await server.services.bookingCreate.createBooking(second, { slotId: slots[0]!.id });
  expect(created).toBe(true);
  expect(fresh).toMatchObject({ status: "PENDING", slotId: slots[0]!.id, customerId: second.userId });
  expect(await slotStatus(db, slots[0]!.id)).toBe("HELD");

  expect(await bookingRow(db, old.id)).toMatchObject({ status: "EXPIRED", reason: HOLD_EXPIRED_REASON });
  expect((await historyOf(db, old.id)).map((h) => [h.from, h.to, h.actor, h.reason])).toEqual([
    [null, "PENDING", first.userId, null],
    ["PENDING", "EXPIRED", null, HOLD_EXPIRED_REASON],
  ]);
  const oldEvents = await outboxOf(db, old.id);
  expect(oldEvents.map((e) => e.eventType)).toEqual(["BOOKING_CREATED", "BOOKING_EXPIRED"]);
  expect(bookingEventEnvelopeSchema.strict().parse(oldEvents[1]!.payload)).toMatchObject({ actorId: "system", status: "EXPIRED", previousStatus: "PENDING" });
  // The expiry is committed before (and with) the new booking: its event comes first.
  const newEvents = await outboxOf(db, fresh.id);
  expect(newEvents.map((e) => e.eventType)).toEqual(["BOOKING_CREATED"]);
  expect(newEvents[0]!.id > oldEvents[1]!.id).toBe(true);

  // The worker finds nothing left to do for either booking.
  await server.services.bookingExpiry.expireLapsedHolds();
  expect(await expiredEventCount(db, [old.id, fresh.id])).toEqual(once([old.id]));
  expect((await bookingRow(db, fresh.id))!.status).toBe("PENDING");
});

test("rescheduleBooking onto a slot whose hold has lapsed succeeds before the worker runs", async () => {
  const { server, clock, db } = await boot();
  const { owner, slots } = await providerWithSlots(server, { count: 2 });
  const [holder, mover] = [await registerUser(server, "CUSTOMER"), await registerUser(server, "CUSTOMER")];
  const { booking: stale } = await server.services.bookingCreate.createBooking(holder, { slotId: slots[0]!.id });
  clock.advance(5 * MINUTE);
  const { booking: moving } = await server.services.bookingCreate.createBooking(mover, { slotId: slots[1]!.id });
  await server.services.bookingTransition.acceptBooking(owner, moving.id);

  clock.set(stale.holdExpiresAt!);
  const moved = await server.services.bookingReschedule.rescheduleBooking(mover, moving.id, slots[0]!.id);
  expect(moved).toMatchObject({ id: moving.id, slotId: slots[0]!.id, status: "PENDING" });
  expect(await slotStatus(db, slots[0]!.id)).toBe("HELD");
  expect(await slotStatus(db, slots[1]!.id)).toBe("AVAILABLE");
  expect(await bookingRow(db, stale.id)).toMatchObject({ status: "EXPIRED", reason: HOLD_EXPIRED_REASON });
  expect(await expiredEventCount(db, [stale.id])).toEqual(once([stale.id]));
  expect(await expiredHistoryCount(db, [stale.id])).toEqual(once([stale.id]));
});

/** Creates `count` PENDING bookings (several customers) on fresh slots; returns their ids. */
async function pendingBookings(server: TestServer, count: number): Promise<string[]> {
  const { slots } = await providerWithSlots(server, { count: count });
  const customers = await Promise.all([0, 1, 2, 3].map(() => registerUser(server, "CUSTOMER")));
  const ids: string[] = [];
  for (const [i, slot] of slots.entries()) {
    ids.push((await bookSlot(server, customers[i % customers.length]!, slot.id)).id);
  }
  return ids;
}

/** Expires in small batches until a run finds nothing; returns how many this loop expired. */
async function drainExpiry(server: TestServer, batch: number): Promise<number> {
  let total = 0;
  for (let n = await server.services.bookingExpiry.expireLapsedHolds(batch); n > 0; n = await server.services.bookingExpiry.expireLapsedHolds(batch)) total += n;
  return total;
}

async function expectExpiredOnce(db: Db, ids: string[]) {
  const rows = await db.select().from(outbox).where(and(inArray(outbox.bookingId, ids), eq(outbox.eventType, "BOOKING_EXPIRED")));
  expect(rows).toHaveLength(ids.length);
  expect(await expiredHistoryCount(db, ids)).toEqual(once(ids));
  expect(await expiredEventCount(db, ids)).toEqual(once(ids));
  for (const id of ids) expect((await bookingRow(db, id))!.status).toBe("EXPIRED");
}

test("expiry runs in parallel on this server's database expire each booking exactly once", async () => {
  const { server, clock, db, holdMs } = await boot();
  const ids = await pendingBookings(server, 24);
  clock.advance(holdMs);

  const totals = await Promise.all([drainExpiry(server, 5), drainExpiry(server, 5), drainExpiry(server, 5), drainExpiry(server, 5)]);
  const mopUp = await server.services.bookingExpiry.expireLapsedHolds();

  expect(totals.reduce((a, b) => a + b, 0) + mopUp).toBe(ids.length);
  await expectExpiredOnce(db, ids);
});

test("two servers on one PostgreSQL database expiring at once expire each booking exactly once", async () => {
  if (!(await requireService("postgres"))) return;
  const pg = await createPostgresDatabase();
  try {
    // One clock for both instances, as in production they share the wall clock.
    const clock = new ManualClock(T0);
    const a = await boot({ databaseUrl: pg.url, clock });
    const b = await boot({ databaseUrl: pg.url, clock });
    expect([a.server.database.kind, b.server.database.kind]).toEqual(["postgres", "postgres"]);
    const ids = await pendingBookings(a.server, 40);
    clock.advance(a.holdMs);

    const totals = await Promise.all([drainExpiry(a.server, 3), drainExpiry(b.server, 3), drainExpiry(a.server, 7), drainExpiry(b.server, 7)]);
    const mopUp = (await a.server.services.bookingExpiry.expireLapsedHolds()) + (await b.server.services.bookingExpiry.expireLapsedHolds());

    expect(totals.reduce((x, y) => x + y, 0) + mopUp).toBe(ids.length);
    await expectExpiredOnce(a.db, ids);
  } finally {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await pg.drop();
  }
}, 120_000);

// Regression: when the worker has locked a lapsed booking but not yet released its slot, the
// claim sees HELD and the inline expiry waits for the worker; the claim must then be retried.
test("createBooking racing with the expiry worker for lapsed slots on PostgreSQL always gets the slot", async () => {
  if (!(await requireService("postgres"))) return;
  const pg = await createPostgresDatabase();
  try {
    const { server, clock, db, holdMs } = await boot({ databaseUrl: pg.url });
    const stale = await pendingBookings(server, 30);
    const slotIds = await Promise.all(stale.map(async (id) => (await bookingRow(db, id))!.slotId));
    const newcomer = await registerUser(server, "CUSTOMER");
    clock.advance(holdMs);

    const [, ...outcomes] = await Promise.all([
      server.services.bookingExpiry.expireLapsedHolds(),
      ...slotIds.map((slotId) => server.services.bookingCreate.createBooking(newcomer, { slotId }).then(() => "booked", (e: { reason?: string }) => e.reason ?? String(e))),
    ]);

    expect(outcomes).toEqual(slotIds.map(() => "booked"));
    await expectExpiredOnce(db, stale);
  } finally {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await pg.drop();
  }
}, 120_000);

test("with the workers running, a lapsed hold is expired without anyone calling the service", async () => {
  const { server, clock, db, holdMs } = await boot({ env: { WORKERS: "on", WORKER_INTERVAL_MS: "50" } });
  const { slots } = await providerWithSlots(server, { count: 1 });
  const customer = await registerUser(server, "CUSTOMER");
  const { booking } = await server.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });

  clock.advance(holdMs);
  await waitFor("the worker to expire the booking", async () => (await bookingRow(db, booking.id))!.status === "EXPIRED");

  expect(await slotStatus(db, slots[0]!.id)).toBe("AVAILABLE");
  // Give the worker a few more rounds: it must not expire the booking a second time.
  await sleep(300);
  await expectExpiredOnce(db, [booking.id]);
});
