import { and, eq, inArray, sql } from "drizzle-orm";
import postgres from "postgres";
import { bookings, outbox, schedules, slots, type BookingRow } from "../../src/db/schema";
import {
  AcceptBookingDocument,
  AddAvailabilityDocument,
  AvailableSlotsDocument,
  CancelBookingDocument,
  CreateBookingDocument,
  RescheduleBookingDocument,
  SetScheduleDocument,
  type SetScheduleInput,
} from "../generated/graphql";
import { createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { createProvider, registerUser, type TestUser } from "../support/factories";
import { execute, executeOk, type GqlResult } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import { sleep } from "../support/wait";
import { mapLimit } from "../support/map-limit";

// PGlite runs one statement at a time and would hide every race below, so this file
// always runs on real PostgreSQL, whatever mode the rest of the suite is in.
let available = false;
let database: TestDatabase | undefined;
let server: TestServer;
const HEAVY_TEST_MS = 300_000;
const DAY = 86_400_000;
const ALL_DAY = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, startTime: "00:00", endTime: "24:00" }));

beforeAll(async () => {
  available = await requireService("postgres");
  if (!available) return;
  database = await createPostgresDatabase();
  server = await startTestServer({ databaseUrl: database.url, env: { DATABASE_POOL_MAX: "20" } });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

const registerCustomers = (n: number) => mapLimit(Array.from({ length: n }), 6, () => registerUser(server.url, "CUSTOMER"));

type Outcome = { kind: "ok"; id: string; slotId: string; status: string; slotStatus: string; startsAt: string; endsAt: string } | { kind: "error"; code?: string; reason?: string; detail: string };

function classify(r: GqlResult<Record<string, { id: string; status: string; slot: { id: string; status: string; startsAt: string; endsAt: string } } | undefined>>): Outcome {
  const b = r.data && Object.values(r.data)[0];
  if (!r.errors?.length && b) return { kind: "ok", id: b.id, slotId: b.slot.id, status: b.status, slotStatus: b.slot.status, startsAt: b.slot.startsAt, endsAt: b.slot.endsAt };
  const e = r.errors?.[0];
  return { kind: "error", code: e?.extensions?.code, reason: e?.extensions?.reason, detail: JSON.stringify(r.errors) };
}

const createBooking = async (c: TestUser, slotId: string) => classify(await execute(server.url, CreateBookingDocument, { input: { slotId } }, c.token));
const reschedule = async (c: TestUser, id: string, slotId: string) => classify(await execute(server.url, RescheduleBookingDocument, { id, slotId }, c.token));

async function activeBookingsPerSlot(providerId: string) {
  const db = server.database.db;
  return db
    .select({ slotId: bookings.slotId, n: sql<number>`count(*)::int` })
    .from(bookings)
    .where(and(eq(bookings.providerId, providerId), inArray(bookings.status, ["PENDING", "CONFIRMED"])))
    .groupBy(bookings.slotId);
}

async function overlappingSlotPairs(providerId: string): Promise<number> {
  const rows = await server.database.db.execute(sql`
    select count(*)::int as n from slots a join slots b
      on a.provider_id = b.provider_id and a.id < b.id and tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
    where a.provider_id = ${providerId} and not a.withdrawn and not b.withdrawn`);
  const list = Array.isArray(rows) ? rows : (rows as unknown as { rows: unknown[] }).rows;
  return (list[0] as { n: number }).n;
}

describe.each([
  { requiresConfirmation: true, label: "a provider that requires confirmation" },
  { requiresConfirmation: false, label: "an auto-confirming provider" },
])("reschedules and new bookings racing for one slot of $label", ({ requiresConfirmation }) => {
  test("leave exactly one active booking on it; every loser gets SLOT_UNAVAILABLE and losing reschedules keep their slot and status", async () => {
    if (!available) return;
    const movers = await registerCustomers(6);
    const bookers = await registerCustomers(6);
    for (let round = 0; round < 3; round++) {
      const owner = await registerUser(server.url, "PROVIDER");
      const provider = await createProvider(server.url, owner, { requiresConfirmation });
      await executeOk(server.url, SetScheduleDocument, { input: { providerId: provider.id, slotMinutes: 60, horizonDays: 7, weekly: ALL_DAY } }, owner.token);
      const from = new Date(Date.now() + (2 + round) * DAY);
      const to = new Date(from.getTime() + 8 * 3_600_000);
      const created = (await executeOk(server.url, AvailableSlotsDocument, { providerId: provider.id, from: from.toISOString(), to: to.toISOString() })).availableSlots;
      expect(created.length).toBeGreaterThanOrEqual(7);
      const target = created[0]!;
      const originals: BookingRow[] = [];
      for (const [i, m] of movers.entries()) {
        const b = await createBooking(m, created[i + 1]!.id);
        if (b.kind !== "ok") throw new Error(b.detail);
        if (requiresConfirmation && i % 2 === 0) await executeOk(server.url, AcceptBookingDocument, { id: b.id }, owner.token);
        const [row] = await server.database.db.select().from(bookings).where(eq(bookings.id, b.id));
        originals.push(row!);
      }

      const outcomes = await Promise.all([
        ...movers.map((m, i) => reschedule(m, originals[i]!.id, target.id)),
        ...bookers.map((c) => createBooking(c, target.id)),
      ]);

      const winners = outcomes.flatMap((o, i) => (o.kind === "ok" ? [{ ...o, index: i }] : []));
      expect(winners).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === "error").map((o) => o.kind === "error" && [o.code, o.reason])).toEqual(
        Array.from({ length: outcomes.length - 1 }, () => ["CONFLICT", "SLOT_UNAVAILABLE"]),
      );
      const winner = winners[0]!;
      const rescheduled = winner.index < movers.length;
      const db = server.database.db;
      const onTarget = await db.select().from(bookings).where(and(eq(bookings.slotId, target.id), inArray(bookings.status, ["PENDING", "CONFIRMED"])));
      expect(onTarget.map((b) => b.id)).toEqual([winner.id]);
      expect(winner.status).toBe(requiresConfirmation ? "PENDING" : "CONFIRMED");

      for (const [i, before] of originals.entries()) {
        const [after] = await db.select().from(bookings).where(eq(bookings.id, before.id));
        const [oldSlot] = await db.select().from(slots).where(eq(slots.id, before.slotId));
        if (rescheduled && i === winner.index) {
          expect(after).toMatchObject({ slotId: target.id, status: winner.status });
          expect(oldSlot!.status).toBe("AVAILABLE");
        } else {
          expect(after).toEqual(before);
          expect(oldSlot!.status).toBe(before.status === "CONFIRMED" ? "BOOKED" : "HELD");
        }
      }
      const losingBookers = bookers.filter((_, i) => movers.length + i !== winner.index).map((c) => c.id);
      expect(await db.select().from(bookings).where(and(eq(bookings.providerId, provider.id), inArray(bookings.customerId, losingBookers)))).toEqual([]);
      // Only the winner left events naming the target slot.
      const events = await db.select().from(outbox).where(sql`${outbox.payload}->>'slotId' = ${target.id}`);
      expect([...new Set(events.map((e) => e.bookingId))]).toEqual([winner.id]);
      expect(events.map((e) => e.eventType)).toEqual(
        rescheduled ? ["BOOKING_RESCHEDULED"] : requiresConfirmation ? ["BOOKING_CREATED"] : ["BOOKING_CREATED", "BOOKING_CONFIRMED"],
      );
      expect((await activeBookingsPerSlot(provider.id)).filter((r) => r.n > 1)).toEqual([]);
    }
  }, HEAVY_TEST_MS);
});

test("regenerating the schedule over and over while 140 bookings are made loses no booking and never double-books a slot", async () => {
  if (!available) return;
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner, { requiresConfirmation: true, timeZone: "Europe/Berlin" });
  const customers = await registerCustomers(20);
  // The two schedules share every half-hour slot before 18:00 local and differ after it.
  const A = { slotMinutes: 30, horizonDays: 10, weekly: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, startTime: "08:00", endTime: "20:00" })) };
  const B = {
    slotMinutes: 30,
    horizonDays: 10,
    weekly: [1, 2, 3, 4, 5, 6, 7].flatMap((weekday) => [
      { weekday, startTime: "08:00", endTime: "18:00" },
      { weekday, startTime: "18:15", endTime: "20:15" },
    ]),
  };
  const set = (rules: typeof A) => executeOk(server.url, SetScheduleDocument, { input: { providerId: provider.id, ...rules } }, owner.token);
  await set(A);
  const from = new Date(Date.now() + 3_600_000);
  const offered = (await executeOk(server.url, AvailableSlotsDocument, { providerId: provider.id, from: from.toISOString(), to: new Date(from.getTime() + 9 * DAY).toISOString() })).availableSlots;
  const localHour = (iso: string) => Number(new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", hourCycle: "h23" }).format(new Date(iso)));
  const shared = offered.filter((s) => localHour(s.startsAt) < 18).slice(0, 120);
  const onlyInA = offered.filter((s) => localHour(s.startsAt) >= 18).slice(0, 20);
  expect(shared).toHaveLength(120);
  // A fixed permutation spreads the slots that only A has among the shared ones.
  const ordered = [...shared.map((s) => ({ s, isShared: true })), ...onlyInA.map((s) => ({ s, isShared: false }))];
  const targets = ordered.map((_, i) => ordered[(i * 37) % ordered.length]!);

  // Ten waves of 14 bookings; each wave starts together with a regeneration (B, A, B, ...),
  // and every other successful booking is confirmed inside the wave, so BOOKED slots are in play too.
  const results: { o: Outcome; isShared: boolean }[] = [];
  for (let wave = 0; wave < 10; wave++) {
    const batch = targets.slice(wave * 14, wave * 14 + 14);
    const [, ...outcomes] = await Promise.all([
      set(wave % 2 === 0 ? B : A),
      ...batch.map(async ({ s, isShared }, j) => {
        const o = await createBooking(customers[(wave * 14 + j) % customers.length]!, s.id);
        if (o.kind === "ok" && j % 2 === 0) {
          const accepted = (await executeOk(server.url, AcceptBookingDocument, { id: o.id }, owner.token)).acceptBooking;
          return { o: { ...o, status: accepted.status, slotStatus: accepted.slot.status }, isShared };
        }
        return { o, isShared };
      }),
    ]);
    results.push(...(outcomes as { o: Outcome; isShared: boolean }[]));
  }
  await set(A);

  // Slots both schedules produce are never withdrawn, so booking them must simply work.
  expect(results.filter((r) => r.isShared && r.o.kind !== "ok").map((r) => r.o)).toEqual([]);
  // The others may be gone (withdrawn, then re-created with a new id) or taken; nothing else.
  const allowed = (o: Outcome) => o.kind === "ok" || o.code === "NOT_FOUND" || (o.code === "CONFLICT" && o.reason === "SLOT_UNAVAILABLE");
  expect(results.filter((r) => !allowed(r.o)).map((r) => r.o)).toEqual([]);
  const ok = results.flatMap((r) => (r.o.kind === "ok" ? [r.o] : []));
  expect(ok.length).toBeGreaterThanOrEqual(120);

  const db = server.database.db;
  const rows = await db.select().from(bookings).where(inArray(bookings.id, ok.map((b) => b.id)));
  const slotRows = await db.select().from(slots).where(inArray(slots.id, ok.map((b) => b.slotId)));
  const bookingById = new Map(rows.map((r) => [r.id, r]));
  const slotById = new Map(slotRows.map((r) => [r.id, r]));
  const lost = ok.filter((b) => {
    const row = bookingById.get(b.id);
    const slot = slotById.get(b.slotId);
    return (
      !row ||
      row.slotId !== b.slotId ||
      row.status !== b.status ||
      !slot ||
      slot.status !== (b.status === "CONFIRMED" ? "BOOKED" : "HELD") ||
      slot.startsAt.toISOString() !== b.startsAt ||
      slot.endsAt.toISOString() !== b.endsAt
    );
  });
  expect(lost).toEqual([]);
  expect((await activeBookingsPerSlot(provider.id)).filter((r) => r.n > 1)).toEqual([]);
  expect(await overlappingSlotPairs(provider.id)).toBe(0);
}, HEAVY_TEST_MS);

test("setSchedule bringing back a withdrawn slot whose time addAvailability takes meanwhile answers CONFLICT SLOT_OVERLAP (not INTERNAL) and changes nothing; a retry succeeds", async () => {
  if (!available) return;
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner, { requiresConfirmation: true, timeZone: "Europe/Berlin" });
  const customer = await registerUser(server.url, "CUSTOMER");
  const A = { slotMinutes: 60, horizonDays: 7, weekly: ALL_DAY };
  const set = (rules: Omit<SetScheduleInput, "providerId">) => execute(server.url, SetScheduleDocument, { input: { providerId: provider.id, ...rules } }, owner.token);
  expect((await set(A)).errors).toBeUndefined();
  const from = new Date(Date.now() + 3 * DAY);
  const [x] = (await executeOk(server.url, AvailableSlotsDocument, { providerId: provider.id, from: from.toISOString(), to: new Date(from.getTime() + 3_600_000 * 2).toISOString() })).availableSlots;
  // A booking once pointed at x, so withdrawing it keeps it (BLOCKED, withdrawn) instead of deleting it.
  const booked = await createBooking(customer, x!.id);
  if (booked.kind !== "ok") throw new Error(booked.detail);
  await executeOk(server.url, CancelBookingDocument, { id: booked.id }, customer.token);
  const localDate = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(x!.startsAt));
  const B = { ...A, overrides: [{ date: localDate, windows: [] }] };
  expect((await set(B)).errors).toBeUndefined();
  const db = server.database.db;
  expect((await db.select().from(slots).where(eq(slots.id, x!.id)))[0]).toMatchObject({ status: "BLOCKED", withdrawn: true });

  // addAvailability's insert of x's time, caught before it commits: setSchedule(A) reads the time
  // as free, tries to bring x back, and waits on the constraint until the insert commits.
  const raw = postgres(database!.url, { max: 2, onnotice: () => undefined });
  try {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedYet = new Promise<void>((r) => (inserted = r));
    const manual = raw.begin(async (tx) => {
      await tx`insert into slots (provider_id, starts_at, ends_at) values (${provider.id}, ${new Date(x!.startsAt)}, ${new Date(x!.endsAt)})`;
      inserted();
      await gate;
    });
    await insertedYet;
    const racing = set(A);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [w] = await raw`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
      if ((w as { n: number }).n > 0) break;
      if (Date.now() > deadline) throw new Error("setSchedule never waited on the uncommitted slot");
      await sleep(50);
    }
    release();
    await manual;
    const result = await racing;
    expect(result.errors?.map((e) => [e.extensions?.code, e.extensions?.reason])).toEqual([["CONFLICT", "SLOT_OVERLAP"]]);
  } finally {
    await raw.end();
  }
  // Nothing changed: schedule B is still the one stored, x is still withdrawn.
  const [stored] = await db.select().from(schedules).where(eq(schedules.providerId, provider.id));
  expect(stored!.overrides).toEqual(B.overrides);
  expect((await db.select().from(slots).where(eq(slots.id, x!.id)))[0]).toMatchObject({ status: "BLOCKED", withdrawn: true });

  // The retry sees the one-off slot and leaves x withdrawn.
  expect((await set(A)).errors).toBeUndefined();
  expect((await db.select().from(slots).where(eq(slots.id, x!.id)))[0]).toMatchObject({ status: "BLOCKED", withdrawn: true });
  expect(await overlappingSlotPairs(provider.id)).toBe(0);
}, HEAVY_TEST_MS);

test("setSchedule and addAvailability racing on the same times: each answers success or CONFLICT SLOT_OVERLAP, never INTERNAL, and no slots overlap", async () => {
  if (!available) return;
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner, { requiresConfirmation: true, timeZone: "Europe/Berlin" });
  const customer = await registerUser(server.url, "CUSTOMER");
  const A = { slotMinutes: 60, horizonDays: 7, weekly: ALL_DAY };
  const set = (rules: Omit<SetScheduleInput, "providerId">) => execute(server.url, SetScheduleDocument, { input: { providerId: provider.id, ...rules } }, owner.token);
  await set(A);
  const outcomes: (string | undefined)[] = [];
  for (let round = 0; round < 6; round++) {
    const from = new Date(Date.now() + (2 + round * 0.5) * DAY);
    const offered = (await executeOk(server.url, AvailableSlotsDocument, { providerId: provider.id, from: from.toISOString(), to: new Date(from.getTime() + 6 * 3_600_000).toISOString() })).availableSlots.slice(0, 4);
    for (const slot of offered) {
      const b = await createBooking(customer, slot.id);
      if (b.kind === "ok") await executeOk(server.url, CancelBookingDocument, { id: b.id }, customer.token);
    }
    const localDate = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(offered[0]!.startsAt));
    await set({ ...A, overrides: [{ date: localDate, windows: [] }] });
    const results = await Promise.all([
      set(A),
      ...offered.map((slot) =>
        execute(server.url, AddAvailabilityDocument, { input: { providerId: provider.id, startsAt: slot.startsAt, endsAt: slot.endsAt, slotMinutes: 60 } }, owner.token),
      ),
    ]);
    outcomes.push(...results.map((r) => (r.errors?.length ? `${r.errors[0]!.extensions?.code}:${r.errors[0]!.extensions?.reason}` : undefined)));
  }
  expect(outcomes.filter((o) => o !== undefined && o !== "CONFLICT:SLOT_OVERLAP")).toEqual([]);
  expect(await overlappingSlotPairs(provider.id)).toBe(0);
}, HEAVY_TEST_MS);
