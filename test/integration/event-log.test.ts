import { randomUUID } from "node:crypto";
import { count, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../src/db/client";
import { encodeEventCursor } from "../../src/db/event-cursor";
import { markOutboxPublished } from "../../src/db/repositories/outbox.repository";
import { markEventsDispatched } from "../../src/db/repositories/webhook-delivery.repository";
import { outbox } from "../../src/db/schema";
import type { EventLogEdge } from "../../src/events/event-log";
import type { Viewer } from "../../src/services";
import { BACKENDS, MINUTE, makeWorld, outboxOf, rejection, useBackend, type World } from "../support/service-world";
import { bookSlot, providerWithSlots, registerUser } from "../support/service-factories";
import { sleep } from "../support/wait";

const DAY = 24 * 60 * MINUTE;

/**
 * Waits until every outbox row is below the horizon: on a PostgreSQL server shared with other
 * work, a transaction that began earlier elsewhere holds new events back for a moment.
 */
async function untilLogged(db: Db): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [row] = await db.select({ n: count() }).from(outbox).where(sql`${outbox.xactId} >= pg_snapshot_xmin(pg_current_snapshot())`);
    if (Number(row!.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`${row!.n} outbox rows still above the horizon after 30 s`);
    await sleep(20);
  }
}

/** A provider whose customer made `count` bookings (one BOOKING_CREATED each) and had the first accepted. */
async function bookedProvider(w: World, count: number) {
  const customer = await registerUser(w, "CUSTOMER");
  const { owner, providerId, slots } = await providerWithSlots(w, { count });
  const bookings = [];
  for (const slot of slots) bookings.push(await bookSlot(w, customer, slot.id));
  await w.services.bookingTransition.acceptBooking(owner, bookings[0]!.id);
  await untilLogged(w.db);
  return { customer, owner, providerId, bookings };
}

/** Takes `count` edges from a stream, failing after `timeoutMs`. */
async function take(stream: AsyncIterator<EventLogEdge>, count: number, timeoutMs = 5_000): Promise<EventLogEdge[]> {
  const out: EventLogEdge[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      stream.next(),
      new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), Math.max(1, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    if (next === "timeout") throw new Error(`timed out after ${out.length} of ${count} edges`);
    if (next.done) throw new Error(`stream ended after ${out.length} of ${count} edges`);
    out.push(next.value);
  }
  return out;
}

describe.each(BACKENDS)("event log on $name", (backend) => {
  const { it } = useBackend(backend);

  it("bookingEvents pages through a provider's and a booking's committed events, oldest first, with resumable cursors", async (db) => {
    const w = makeWorld(db);
    const { owner, customer, providerId, bookings } = await bookedProvider(w, 3);
    const expected = (await db.select().from(outbox).where(inArray(outbox.bookingId, bookings.map((b) => b.id)))).sort((a, b) => a.id - b.id);
    expect(expected).toHaveLength(4);

    const first = await w.services.eventLog.listEvents(owner, { providerId, first: 3 });
    expect(first.hasNextPage).toBe(true);
    expect(first.endCursor).toBe(first.edges[2]!.cursor);
    const second = await w.services.eventLog.listEvents(owner, { providerId, first: 3, after: first.endCursor });
    expect(second.hasNextPage).toBe(false);
    const all = [...first.edges, ...second.edges];
    // Sequential commits: log order is commit (= id) order.
    expect(all.map((e) => e.message.event.eventId)).toEqual(expected.map((r) => r.eventId));
    expect(all.map((e) => e.message.event)).toEqual(expected.map((r) => r.payload));

    // The booking as it was right after each event, not as it is now.
    const ofFirst = await w.services.eventLog.listEvents(customer, { bookingId: bookings[0]!.id });
    expect(ofFirst.edges.map((e) => [e.message.event.eventType, e.message.booking.status])).toEqual([
      ["BOOKING_CREATED", "PENDING"],
      ["BOOKING_CONFIRMED", "CONFIRMED"],
    ]);

    // An empty page keeps the cursor, so a poller can continue from it.
    const empty = await w.services.eventLog.listEvents(owner, { providerId, after: second.endCursor });
    expect(empty).toEqual({ edges: [], hasNextPage: false, endCursor: second.endCursor });
  });

  it("applies the access rules and refuses bad arguments with BAD_USER_INPUT", async (db) => {
    const w = makeWorld(db);
    const { owner, customer, providerId, bookings } = await bookedProvider(w, 1);
    const stranger = await registerUser(w, "CUSTOMER");
    const otherOwner = await registerUser(w, "PROVIDER");
    const admin: Viewer = { userId: randomUUID(), role: "ADMIN" };
    const bookingId = bookings[0]!.id;
    const log = w.services.eventLog;

    expect((await log.listEvents(owner, { bookingId })).edges).toHaveLength(2);
    expect((await log.listEvents(admin, { bookingId })).edges).toHaveLength(2);
    expect((await log.listEvents(admin, { providerId })).edges).toHaveLength(2);
    expect((await rejection(() => log.listEvents(null, { bookingId }))).code).toBe("UNAUTHENTICATED");
    expect((await rejection(() => log.listEvents(stranger, { bookingId }))).code).toBe("NOT_FOUND");
    expect((await rejection(() => log.listEvents(otherOwner, { bookingId }))).code).toBe("NOT_FOUND");
    expect((await rejection(() => log.listEvents(customer, { providerId }))).code).toBe("FORBIDDEN");
    expect((await rejection(() => log.listEvents(otherOwner, { providerId }))).code).toBe("FORBIDDEN");
    expect((await rejection(() => log.followEvents(stranger, { bookingId }))).code).toBe("NOT_FOUND");

    for (const args of [{}, { bookingId, providerId }, { bookingId: "nope" }, { bookingId, first: 0 }, { bookingId, first: 101 }]) {
      expect((await rejection(() => log.listEvents(owner, args))).code).toBe("BAD_USER_INPUT");
    }
    const real = (await log.listEvents(owner, { bookingId })).edges[0]!.cursor;
    const text = Buffer.from(real, "base64url").toString();
    const forged = [
      "not-a-cursor",
      Buffer.from("e1:1:0").toString("base64url"),
      Buffer.from(text.replace(/:(\d+)$/, ":0$1")).toString("base64url"),
      Buffer.from(`${text}:1`).toString("base64url"),
      Buffer.from(`e1:${2n ** 64n}:1`).toString("base64url"),
      Buffer.from(JSON.stringify(["2031-01-01T00:00:00.000Z", randomUUID()])).toString("base64url"),
      `${real}=`,
    ];
    for (const after of forged) {
      expect((await rejection(() => log.listEvents(owner, { bookingId, after }))).code).toBe("BAD_USER_INPUT");
      expect((await rejection(() => log.followEvents(owner, { bookingId, after }))).code).toBe("BAD_USER_INPUT");
    }
  });

  it("bookingEventStream replays every event after the cursor, then streams live ones, each once and in order", async (db) => {
    const w = makeWorld(db);
    const { owner, customer, providerId, bookings } = await bookedProvider(w, 3);
    const page = await w.services.eventLog.listEvents(owner, { providerId, first: 1 });
    const stream = await w.services.eventLog.followEvents(owner, { providerId, after: page.endCursor });
    try {
      const replayed = await take(stream, 3);
      expect(replayed.map((e) => e.message.event.eventType)).toEqual(["BOOKING_CREATED", "BOOKING_CREATED", "BOOKING_CONFIRMED"]);
      await w.services.bookingTransition.cancelBooking(customer, bookings[1]!.id);
      await w.services.bookingTransition.rejectBooking(owner, bookings[2]!.id);
      const live = await take(stream, 2);
      expect(live.map((e) => [e.message.event.eventType, e.message.event.bookingId])).toEqual([
        ["BOOKING_CANCELLED", bookings[1]!.id],
        ["BOOKING_REJECTED", bookings[2]!.id],
      ]);
      // The stream's edges are the log's edges: same cursors as paging gives.
      const paged = await w.services.eventLog.listEvents(owner, { providerId, after: page.endCursor });
      expect(paged.edges.map((e) => e.cursor)).toEqual([...replayed, ...live].map((e) => e.cursor));
    } finally {
      await stream.return?.();
    }
  });

  it("prunes an event EVENT_RETENTION_DAYS after it was delivered everywhere, never an undelivered one", async (db) => {
    const w = makeWorld(db);
    const { owner, providerId, bookings } = await bookedProvider(w, 2);
    const rows = (await db.select().from(outbox).where(inArray(outbox.bookingId, bookings.map((b) => b.id)))).sort((a, b) => a.id - b.id);
    expect(rows).toHaveLength(3);
    const [published, laterPublished, unpublished] = rows;
    // Fanned out to webhooks (this world has no endpoints, so no delivery is created): only the
    // SQS side decides here; webhook-service.test.ts covers a PENDING delivery holding an event.
    await markEventsDispatched(db, rows.map((r) => r.id), w.clock.now());
    await markOutboxPublished(db, [published!.id], w.clock.now());
    w.clock.advance(DAY);
    await markOutboxPublished(db, [laterPublished!.id], w.clock.now());

    // 30 days (the default) after the first publish, to the millisecond: kept.
    w.clock.advance(29 * DAY);
    await w.services.eventLog.pruneExpiredEvents();
    expect((await w.services.eventLog.listEvents(owner, { providerId })).edges).toHaveLength(3);

    w.clock.advance(1);
    expect(await w.services.eventLog.pruneExpiredEvents()).toBe(1);
    const left = await db.select({ id: outbox.id }).from(outbox).where(inArray(outbox.id, rows.map((r) => r.id)));
    expect(left.map((r) => r.id).sort((a, b) => a - b)).toEqual([laterPublished!.id, unpublished!.id]);

    // A year on, the unpublished event (an SQS queue never took it) is still kept.
    w.clock.advance(365 * DAY);
    await w.services.eventLog.pruneExpiredEvents();
    expect((await db.select({ id: outbox.id }).from(outbox).where(inArray(outbox.id, rows.map((r) => r.id)))).map((r) => r.id)).toEqual([unpublished!.id]);
    expect((await w.services.eventLog.listEvents(owner, { providerId })).edges.map((e) => e.message.event.eventId)).toEqual([unpublished!.eventId]);
  });

  it("serves events written without a booking snapshot from the envelope and the booking row", async (db) => {
    const w = makeWorld(db);
    const { owner, bookings } = await bookedProvider(w, 1);
    const bookingId = bookings[0]!.id;
    await db.update(outbox).set({ booking: null }).where(eq(outbox.bookingId, bookingId));
    const edges = (await w.services.eventLog.listEvents(owner, { bookingId })).edges;
    const rows = await outboxOf(db, bookingId);
    expect(edges.map((e) => [e.message.booking.id, e.message.booking.status, e.message.booking.slotId])).toEqual(
      rows.map((r) => [bookingId, (r.payload as { status: string }).status, (r.payload as { slotId: string }).slotId]),
    );
  });

  it("the cursor encodes the log position and nothing else", async (db) => {
    const w = makeWorld(db);
    const { owner, bookings } = await bookedProvider(w, 1);
    const [row] = await db.select().from(outbox).where(eq(outbox.bookingId, bookings[0]!.id)).orderBy(outbox.id).limit(1);
    const edges = (await w.services.eventLog.listEvents(owner, { bookingId: bookings[0]!.id })).edges;
    expect(edges[0]!.cursor).toBe(encodeEventCursor({ xactId: row!.xactId, id: row!.id }));
  });
});
