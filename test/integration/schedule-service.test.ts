import { asc, eq } from "drizzle-orm";
import { DateTime } from "luxon";
import type { Db } from "../../src/db/client";
import { slots as slotsTable, type SlotRow } from "../../src/db/schema";
import { ManualClock } from "../../src/domain/clock";
import type { SetScheduleInput } from "../../src/services/schedule.service";
import { createPostgresDatabase, requireService } from "../support/backends";
import { startTestServer, type TestServer } from "../support/test-server";
import { bookSlot, createProvider, registerUser } from "../support/service-factories";
import { bookingRow, rejection } from "../support/service-world";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
// Monday 07:00 in Berlin (CET); clocks there go forward on Sunday 2031-03-30.
const T0 = new Date("2031-03-24T06:00:00.000Z");
const BERLIN = "Europe/Berlin";
const WEEKDAYS_9_TO_5 = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, startTime: "09:00", endTime: "17:00" }));

const opened: TestServer[] = [];
const closeAll = () => Promise.all(opened.splice(0).map((s) => s.close()));
afterEach(closeAll);

async function boot(opts: { clock?: ManualClock; databaseUrl?: string } = {}) {
  const clock = opts.clock ?? new ManualClock(T0);
  const server = await startTestServer({ clock, databaseUrl: opts.databaseUrl });
  opened.push(server);
  return { server, clock, db: server.database.db, s: server.services };
}

/** A provider whose owner sets its weekly schedule through `set`. */
async function provider(server: TestServer, timeZone = BERLIN, requiresConfirmation = true) {
  const owner = await registerUser(server, "PROVIDER");
  const p = await createProvider(server, owner, { timeZone, requiresConfirmation });
  const set = (input: Omit<SetScheduleInput, "providerId">) => server.services.schedule.setSchedule(owner, { providerId: p.id, ...input });
  return { owner, providerId: p.id, set };
}

async function slotsOf(db: Db, providerId: string): Promise<SlotRow[]> {
  return db.select().from(slotsTable).where(eq(slotsTable.providerId, providerId)).orderBy(asc(slotsTable.startsAt));
}

const span = (s: { startsAt: Date; endsAt: Date }) => `${s.startsAt.toISOString()}/${s.endsAt.toISOString()}`;
const overlaps = (a: { startsAt: Date; endsAt: Date }, b: { startsAt: Date; endsAt: Date }) => a.startsAt < b.endsAt && b.startsAt < a.endsAt;

/** Slots of `minutes` laid end to end in a local window, computed with luxon (ordinary, non-gap times only). */
function localSlots(zone: string, date: string, from: string, to: string, minutes: number) {
  const end = DateTime.fromISO(`${date}T${to}`, { zone });
  const out: { startsAt: Date; endsAt: Date }[] = [];
  for (let t = DateTime.fromISO(`${date}T${from}`, { zone }); t.plus({ minutes }) <= end; t = t.plus({ minutes })) {
    out.push({ startsAt: t.toJSDate(), endsAt: t.plus({ minutes }).toJSDate() });
  }
  return out;
}

/** Local dates from `first` to `last` inclusive whose ISO weekday is in `weekdays`. */
function dates(first: string, last: string, weekdays = [1, 2, 3, 4, 5]): string[] {
  const out: string[] = [];
  for (let d = DateTime.fromISO(first); d <= DateTime.fromISO(last); d = d.plus({ days: 1 })) if (weekdays.includes(d.weekday)) out.push(d.toISODate()!);
  return out;
}

function expectNoOverlaps(rows: SlotRow[]) {
  const clashes = rows.flatMap((a, i) => rows.slice(i + 1).filter((b) => overlaps(a, b)).map((b) => `${span(a)} x ${span(b)}`));
  expect(clashes).toEqual([]);
}

test("setSchedule generates the horizon's slots in the provider's zone: 09:00 Berlin is 08:00Z before the DST change and 07:00Z after", async () => {
  const { server, db } = await boot();
  const p = await provider(server);
  const overrides = [
    { date: "2031-03-26", windows: [] },
    { date: "2031-03-29", windows: [{ startTime: "10:00", endTime: "12:00" }] },
  ];
  const saved = await p.set({ slotMinutes: 60, horizonDays: 14, weekly: WEEKDAYS_9_TO_5, overrides });
  expect(saved).toMatchObject({ slotMinutes: 60, bufferMinutes: 0, minimumNoticeMinutes: 0, horizonDays: 14, weekly: WEEKDAYS_9_TO_5, overrides });

  const rows = await slotsOf(db, p.providerId);
  expect(rows.every((r) => r.source === "SCHEDULE" && r.status === "AVAILABLE")).toBe(true);
  const starts = rows.map((r) => r.startsAt.toISOString());
  // A few instants written out: Monday before the change, the Saturday override, Monday after.
  expect(span(rows[0]!)).toBe("2031-03-24T08:00:00.000Z/2031-03-24T09:00:00.000Z");
  expect(starts).toContain("2031-03-28T15:00:00.000Z");
  expect(starts).not.toContain("2031-03-28T16:00:00.000Z");
  expect(starts.filter((s) => s.startsWith("2031-03-29"))).toEqual(["2031-03-29T09:00:00.000Z", "2031-03-29T10:00:00.000Z"]);
  expect(starts.filter((s) => s.startsWith("2031-03-31"))[0]).toBe("2031-03-31T07:00:00.000Z");
  expect(span(rows.at(-1)!)).toBe("2031-04-04T14:00:00.000Z/2031-04-04T15:00:00.000Z");

  // Every weekday in [now, now + 14 days) but the closed Wednesday, plus the Saturday override.
  const expected = [
    ...dates("2031-03-24", "2031-04-06").filter((d) => d !== "2031-03-26").flatMap((d) => localSlots(BERLIN, d, "09:00", "17:00", 60)),
    ...localSlots(BERLIN, "2031-03-29", "10:00", "12:00", 60),
  ].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
  expect(rows.map(span)).toEqual(expected.map(span));
  expect(rows).toHaveLength(9 * 8 + 2);
});

test("a 45-minute-offset zone with a buffer: 09:00-11:00 Kathmandu, 30-minute slots and 15 minutes between them", async () => {
  const { server, db } = await boot();
  const p = await provider(server, "Asia/Kathmandu");
  await p.set({ slotMinutes: 30, bufferMinutes: 15, horizonDays: 7, weekly: [{ weekday: 1, startTime: "09:00", endTime: "11:00" }] });
  // Monday the 24th is already past 11:45 there; the next Monday is inside the horizon.
  expect((await slotsOf(db, p.providerId)).map(span)).toEqual([
    "2031-03-31T03:15:00.000Z/2031-03-31T03:45:00.000Z",
    "2031-03-31T04:00:00.000Z/2031-03-31T04:30:00.000Z",
    "2031-03-31T04:45:00.000Z/2031-03-31T05:15:00.000Z",
  ]);
});

/** Tuesday 2031-03-25 (CET) slots of the 09-17 schedule, in use in four different ways. */
async function scheduleInUse(server: TestServer, db: Db) {
  const p = await provider(server);
  const s = server.services;
  await p.set({ slotMinutes: 60, horizonDays: 14, weekly: WEEKDAYS_9_TO_5 });
  const tuesday = (hour: number) => `2031-03-25T${String(hour - 1).padStart(2, "0")}:00:00.000Z`;
  const slotAt = async (iso: string) => (await slotsOf(db, p.providerId)).find((r) => r.startsAt.toISOString() === iso)!;
  const customer = await registerUser(server, "CUSTOMER");
  const held = await bookSlot(server, customer, (await slotAt(tuesday(9))).id);
  const booked = await bookSlot(server, customer, (await slotAt(tuesday(10))).id);
  await s.bookingTransition.acceptBooking(p.owner, booked.id);
  await s.slotBlock.blockSlot(p.owner, (await slotAt(tuesday(11))).id);
  const cancelled = await bookSlot(server, customer, (await slotAt(tuesday(12))).id);
  await s.bookingTransition.cancelBooking(customer, cancelled.id, "changed my mind");
  // One-off window on Saturday 10:00-11:00 local, outside the weekly schedule.
  const [manual] = await s.provider.addAvailability(p.owner, {
    providerId: p.providerId,
    startsAt: new Date("2031-03-29T09:00:00.000Z"),
    endsAt: new Date("2031-03-29T10:00:00.000Z"),
    slotMinutes: 60,
  });
  const inUse = await Promise.all([tuesday(9), tuesday(10), tuesday(11)].map(slotAt));
  return { p, held, booked, inUse, manual: manual!, cancelledSlot: await slotAt(tuesday(12)) };
}

const SHIFTED = {
  slotMinutes: 60,
  horizonDays: 14,
  weekly: [...[1, 2, 3, 4, 5].map((weekday) => ({ weekday, startTime: "09:30", endTime: "17:30" })), { weekday: 6, startTime: "09:00", endTime: "12:00" }],
};

test("regenerating withdraws AVAILABLE generated slots that no longer fit, keeps HELD, BOOKED, BLOCKED and one-off slots (marking the first three to be withdrawn once released), and never overlaps them", async () => {
  const { server, db } = await boot();
  const { p, held, booked, inUse, manual, cancelledSlot } = await scheduleInUse(server, db);

  await p.set(SHIFTED);

  const rows = await slotsOf(db, p.providerId);
  const byId = new Map(rows.map((r) => [r.id, r]));
  // Kept as they are, only marked: the new schedule does not offer them, so they are withdrawn once released.
  for (const kept of inUse) expect(byId.get(kept.id)).toEqual({ ...kept, withdrawOnRelease: true });
  expect(byId.get(manual.id)).toEqual(manual);
  expect(inUse.map((r) => r.status)).toEqual(["HELD", "BOOKED", "BLOCKED"]);
  expect(manual.source).toBe("MANUAL");
  // A booking still points at it (history), so it is taken off sale rather than deleted, and
  // marked withdrawn: it no longer holds its time against the new schedule's slots.
  expect(byId.get(cancelledSlot.id)).toMatchObject({ status: "BLOCKED", withdrawn: true, startsAt: cancelledSlot.startsAt });
  expect(await bookingRow(db, held.id)).toMatchObject({ status: "PENDING", slotId: inUse[0]!.id });
  expect(await bookingRow(db, booked.id)).toMatchObject({ status: "CONFIRMED", slotId: inUse[1]!.id });

  const occupying = [...inUse, manual];
  const untouchable = [...occupying, cancelledSlot];
  const fresh = [
    ...dates("2031-03-24", "2031-04-06").flatMap((d) => localSlots(BERLIN, d, "09:30", "17:30", 60)),
    ...dates("2031-03-24", "2031-04-06", [6]).flatMap((d) => localSlots(BERLIN, d, "09:00", "12:00", 60)),
  ].filter((s) => s.startsAt >= T0 && !occupying.some((u) => overlaps(u, s)));
  const generated = rows.filter((r) => !untouchable.some((u) => u.id === r.id));
  expect(generated.every((r) => r.source === "SCHEDULE" && r.status === "AVAILABLE")).toBe(true);
  expect(generated.map(span).sort()).toEqual(fresh.map(span).sort());
  expectNoOverlaps(rows.filter((r) => !r.withdrawn));
});

// Regression: a withdrawn slot that some booking once referenced is kept BLOCKED; it must come
// back when the schedule that produced it does (A -> B -> A), unlike a slot the owner blocked.
test("switching back to the previous schedule puts a withdrawn slot that once had a cancelled booking back on sale", async () => {
  const { server, db } = await boot();
  const { p, cancelledSlot } = await scheduleInUse(server, db);
  await p.set(SHIFTED);
  await p.set({ slotMinutes: 60, horizonDays: 14, weekly: WEEKDAYS_9_TO_5 });
  const row = (await slotsOf(db, p.providerId)).find((r) => span(r) === span(cancelledSlot));
  expect(row?.status).toBe("AVAILABLE");
});

test("a schedule slot kept only because it was booked or blocked is withdrawn, not put back on sale, after cancel, reject, expiry or a reschedule away; unblocking it is refused", async () => {
  const { server, clock, db, s } = await boot();
  const p = await provider(server);
  await p.set({ slotMinutes: 60, horizonDays: 14, weekly: WEEKDAYS_9_TO_5 });
  const tuesday = (hour: number) => `2031-03-25T${String(hour - 1).padStart(2, "0")}:00:00.000Z`;
  const slotAt = async (iso: string) => (await slotsOf(db, p.providerId)).find((r) => r.startsAt.toISOString() === iso)!;
  const customer = await registerUser(server, "CUSTOMER");
  const book = async (hour: number) => bookSlot(server, customer, (await slotAt(tuesday(hour))).id);
  const toCancel = await book(9);
  await s.bookingTransition.acceptBooking(p.owner, toCancel.id);
  const toReject = await book(10);
  const toExpire = await book(11);
  const toMove = await book(12);
  const blocked = await slotAt(tuesday(13));
  await s.slotBlock.blockSlot(p.owner, blocked.id);
  const keptHours = [9, 10, 11, 12, 13];
  const kept = await Promise.all(keptHours.map((h) => slotAt(tuesday(h))));

  // The new schedule starts every slot at half past: none of the five times is offered any more.
  await p.set(SHIFTED);
  const target = (await s.provider.availableSlots(p.providerId, new Date("2031-03-26T00:00:00.000Z"), new Date("2031-03-27T00:00:00.000Z")))[0]!;
  expect(target.startsAt.toISOString()).toBe("2031-03-26T08:30:00.000Z");

  await s.bookingTransition.cancelBooking(customer, toCancel.id, "cannot come");
  await s.bookingTransition.rejectBooking(p.owner, toReject.id, "fully booked");
  await s.bookingReschedule.rescheduleBooking(customer, toMove.id, target.id);
  clock.advance(16 * MINUTE);
  // Expires toExpire's hold, and the moved booking's fresh one on a slot the schedule does offer.
  expect(await s.bookingExpiry.expireLapsedHolds()).toBe(2);
  expect(await rejection(() => s.slotBlock.unblockSlot(p.owner, blocked.id))).toMatchObject({ code: "CONFLICT", reason: "INVALID_TRANSITION" });

  const after = new Map((await slotsOf(db, p.providerId)).map((r) => [r.id, r]));
  expect(kept.slice(0, 4).map((k) => [after.get(k.id)!.status, after.get(k.id)!.withdrawn])).toEqual(Array.from({ length: 4 }, () => ["BLOCKED", true]));
  expect(after.get(blocked.id)).toMatchObject({ status: "BLOCKED", withdrawn: false, withdrawOnRelease: true });
  expect(after.get(target.id)).toMatchObject({ status: "AVAILABLE", withdrawn: false });
  const tuesdayOffer = await s.provider.availableSlots(p.providerId, new Date("2031-03-25T00:00:00.000Z"), new Date("2031-03-26T00:00:00.000Z"));
  expect(tuesdayOffer.filter((r) => keptHours.map(tuesday).includes(r.startsAt.toISOString()))).toEqual([]);
  expect(await rejection(() => s.bookingCreate.createBooking(customer, { slotId: kept[0]!.id }))).toMatchObject({ reason: "SLOT_UNAVAILABLE" });
  expectNoOverlaps([...after.values()].filter((r) => !r.withdrawn));

  // The schedule that offers those times again brings them back, and the blocked one may be unblocked.
  await p.set({ slotMinutes: 60, horizonDays: 14, weekly: WEEKDAYS_9_TO_5 });
  const back = new Map((await slotsOf(db, p.providerId)).map((r) => [r.id, r]));
  expect(kept.slice(0, 4).map((k) => back.get(k.id)!.status)).toEqual(["AVAILABLE", "AVAILABLE", "AVAILABLE", "AVAILABLE"]);
  expect(await s.slotBlock.unblockSlot(p.owner, blocked.id)).toMatchObject({ status: "AVAILABLE" });
});

test("a kept booked slot that the schedule offers again before its booking ends goes back on sale when it is cancelled", async () => {
  const { server, db, s } = await boot();
  const p = await provider(server);
  const rules = { slotMinutes: 60, horizonDays: 14, weekly: WEEKDAYS_9_TO_5 };
  await p.set(rules);
  const slot = (await slotsOf(db, p.providerId)).find((r) => r.startsAt.toISOString() === "2031-03-25T08:00:00.000Z")!;
  const customer = await registerUser(server, "CUSTOMER");
  const { booking } = await s.bookingCreate.createBooking(customer, { slotId: slot.id });
  await p.set(SHIFTED);
  await p.set(rules);
  await s.bookingTransition.cancelBooking(customer, booking.id);
  expect((await slotsOf(db, p.providerId)).find((r) => r.id === slot.id)).toMatchObject({ status: "AVAILABLE", withdrawn: false, withdrawOnRelease: false });
});

test("identical regeneration keeps slot ids stable, also after the clock moves on", async () => {
  const { server, clock, db } = await boot();
  const p = await provider(server);
  const rules = { slotMinutes: 30, bufferMinutes: 10, horizonDays: 10, weekly: WEEKDAYS_9_TO_5 };
  await p.set(rules);
  const before = await slotsOf(db, p.providerId);
  await p.set(rules);
  expect(await slotsOf(db, p.providerId)).toEqual(before);

  clock.advance(5 * 60 * MINUTE);
  await p.set(rules);
  const after = await slotsOf(db, p.providerId);
  const stillFuture = before.filter((r) => r.startsAt > clock.now());
  expect(after.filter((r) => r.startsAt > clock.now()).slice(0, stillFuture.length)).toEqual(stillFuture);
  expectNoOverlaps(after);
});

test("availableSlots honours minimumNoticeMinutes and horizonDays; booking inside the notice is CONFLICT SLOT_UNAVAILABLE", async () => {
  const { server, clock, db, s } = await boot();
  const p = await provider(server);
  await p.set({ slotMinutes: 60, minimumNoticeMinutes: 150, horizonDays: 7, weekly: WEEKDAYS_9_TO_5 });
  const customer = await registerUser(server, "CUSTOMER");
  const list = async () => (await s.provider.availableSlots(p.providerId, clock.now(), new Date(clock.now().getTime() + 30 * DAY))).map((r) => r.startsAt.toISOString());

  // now 06:00Z + 150 min = 08:30Z: Monday's 08:00Z slot exists but is too soon.
  const listed = await list();
  expect(listed[0]).toBe("2031-03-24T09:00:00.000Z");
  expect(listed.at(-1)).toBe("2031-03-28T15:00:00.000Z");
  expect(listed).toHaveLength(7 + 4 * 8);
  const tooSoon = (await slotsOf(db, p.providerId))[0]!;
  expect(tooSoon.startsAt.toISOString()).toBe("2031-03-24T08:00:00.000Z");
  expect(await rejection(() => s.bookingCreate.createBooking(customer, { slotId: tooSoon.id }))).toMatchObject({ code: "CONFLICT", reason: "SLOT_UNAVAILABLE" });
  expect((await slotsOf(db, p.providerId))[0]!.status).toBe("AVAILABLE");

  // The notice moves with the clock: at 07:31Z the 10:00Z slot is inside it too.
  clock.set(new Date("2031-03-24T07:31:00.000Z"));
  expect((await list())[0]).toBe("2031-03-24T11:00:00.000Z");
  const tenOClock = (await slotsOf(db, p.providerId)).find((r) => r.startsAt.toISOString() === "2031-03-24T10:00:00.000Z")!;
  expect(await rejection(() => s.bookingCreate.createBooking(customer, { slotId: tenOClock.id }))).toMatchObject({ code: "CONFLICT", reason: "SLOT_UNAVAILABLE" });
  const ok = await s.bookingCreate.createBooking(customer, { slotId: (await slotsOf(db, p.providerId)).find((r) => r.startsAt.toISOString() === "2031-03-24T11:00:00.000Z")!.id });
  expect(ok.booking.status).toBe("PENDING");

  // Two days on, with the horizon extended, the offer reaches two days further.
  clock.set(new Date(T0.getTime() + 2 * DAY));
  await s.schedule.extendHorizons();
  const later = await list();
  expect(later[0]).toBe("2031-03-26T09:00:00.000Z");
  expect(later.at(-1)).toBe("2031-04-01T14:00:00.000Z");
  expect(later.every((iso) => Date.parse(iso) < clock.now().getTime() + 7 * DAY)).toBe(true);
});

async function expectHorizonExtendedOnce(db: Db, providerId: string) {
  // Generated at T0 for 14 days, then extended at T0 + 3 days: [T0, T0 + 17 days) in all.
  const expected = dates("2031-03-24", "2031-04-09").flatMap((d) => localSlots(BERLIN, d, "09:00", "17:00", 60));
  const rows = await slotsOf(db, providerId);
  expect(rows.map(span)).toEqual(expected.map(span));
  expect(rows).toHaveLength(13 * 8);
}

test("extendHorizons with the clock moved 3 days adds the missing days exactly once, even when run twice at once", async () => {
  const { server, clock, db, s } = await boot();
  const p = await provider(server);
  await p.set({ slotMinutes: 60, horizonDays: 14, weekly: WEEKDAYS_9_TO_5 });
  expect(await s.schedule.extendHorizons()).toBe(0);

  clock.advance(3 * DAY);
  const added = await Promise.all([s.schedule.extendHorizons(), s.schedule.extendHorizons()]);
  expect(added[0]! + added[1]!).toBe(3 * 8);
  expect(await s.schedule.extendHorizons()).toBe(0);
  await expectHorizonExtendedOnce(db, p.providerId);
});

test("extendHorizons run by two servers at once on one PostgreSQL database adds each day once", async () => {
  if (!(await requireService("postgres"))) return;
  const pg = await createPostgresDatabase();
  try {
    const clock = new ManualClock(T0);
    const a = await boot({ clock, databaseUrl: pg.url });
    const b = await boot({ clock, databaseUrl: pg.url });
    const p = await provider(a.server);
    await p.set({ slotMinutes: 60, horizonDays: 14, weekly: WEEKDAYS_9_TO_5 });

    clock.advance(3 * DAY);
    const added = await Promise.all([a, b, a, b].map((x) => x.s.schedule.extendHorizons()));
    expect(added.reduce((x, y) => x + y, 0)).toBe(3 * 8);
    await expectHorizonExtendedOnce(a.db, p.providerId);
  } finally {
    await closeAll();
    await pg.drop();
  }
}, 120_000);

test("addAvailability still adds one-off windows alongside a schedule; one overlapping a generated slot is CONFLICT SLOT_OVERLAP", async () => {
  const { server, db, s } = await boot();
  const p = await provider(server);
  await p.set({ slotMinutes: 60, horizonDays: 14, weekly: WEEKDAYS_9_TO_5 });
  const count = (await slotsOf(db, p.providerId)).length;

  // Saturday 10:00-12:00 Berlin: outside the weekly windows.
  const extra = await s.provider.addAvailability(p.owner, { providerId: p.providerId, startsAt: new Date("2031-03-29T09:00:00.000Z"), endsAt: new Date("2031-03-29T11:00:00.000Z"), slotMinutes: 60 });
  expect(extra.map((r) => [r.source, r.status])).toEqual([["MANUAL", "AVAILABLE"], ["MANUAL", "AVAILABLE"]]);
  const listed = await s.provider.availableSlots(p.providerId, new Date("2031-03-28T00:00:00.000Z"), new Date("2031-03-31T12:00:00.000Z"));
  expect(listed.map((r) => r.startsAt.toISOString())).toEqual([
    ...localSlots(BERLIN, "2031-03-28", "09:00", "17:00", 60).map((x) => x.startsAt.toISOString()),
    "2031-03-29T09:00:00.000Z",
    "2031-03-29T10:00:00.000Z",
    ...localSlots(BERLIN, "2031-03-31", "09:00", "14:00", 60).map((x) => x.startsAt.toISOString()),
  ]);

  // Tuesday 09:30-10:30 Berlin overlaps the generated 09:00 and 10:00 slots.
  const clash = await rejection(() =>
    s.provider.addAvailability(p.owner, { providerId: p.providerId, startsAt: new Date("2031-03-25T08:30:00.000Z"), endsAt: new Date("2031-03-25T09:30:00.000Z"), slotMinutes: 60 }),
  );
  expect(clash).toMatchObject({ code: "CONFLICT", reason: "SLOT_OVERLAP" });
  expect(await slotsOf(db, p.providerId)).toHaveLength(count + 2);

  // A schedule that now opens Saturday too keeps the one-off slots and fills around them.
  await p.set({ slotMinutes: 60, horizonDays: 14, weekly: [...WEEKDAYS_9_TO_5, { weekday: 6, startTime: "09:00", endTime: "13:00" }] });
  const saturday = (await slotsOf(db, p.providerId)).filter((r) => r.startsAt.toISOString().startsWith("2031-03-29"));
  expect(saturday.map((r) => [r.startsAt.toISOString(), r.source])).toEqual([
    ["2031-03-29T08:00:00.000Z", "SCHEDULE"],
    ["2031-03-29T09:00:00.000Z", "MANUAL"],
    ["2031-03-29T10:00:00.000Z", "MANUAL"],
    ["2031-03-29T11:00:00.000Z", "SCHEDULE"],
  ]);
  expect(saturday.filter((r) => r.source === "MANUAL").map((r) => r.id)).toEqual(extra.map((r) => r.id));
});
