/**
 * Availability setup: most providers publish a weekly schedule with setSchedule (one of them
 * publishes twice, adding a lunch break and a closed day), two publish one-off windows with
 * addAvailability, and one does both. The bookable slots are then read back with
 * availableSlots, and every list is checked against what the plan implies.
 */
import { DateTime } from "luxon";
import { mapLimit, request } from "./graphql";
import type { DemoProvider, DemoSlot, Ledger } from "./ledger";
import {
  ADD_AVAILABILITY,
  AVAILABLE_SLOTS,
  SET_SCHEDULE,
  type AddAvailabilityData,
  type AvailableSlotsData,
  type ScheduleRules,
  type SetScheduleData,
  type TimeWindow,
} from "./operations";
import { expectedScheduleSlots, localDates, SATURDAY_HOURS, scheduleRules, slotKey } from "./schedules";

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** "The coming week" the demo reads and books in. */
export const WEEK_MS = 7 * DAY_MS;
/**
 * The server sends BOOKING_REMINDER for CONFIRMED bookings 24 h and 1 h before their start
 * (REMINDER_OFFSETS_MINUTES' default). The demo books only slots starting more than 25 h
 * ahead, so no reminder falls due while it runs and every listener's expectation stays exact.
 */
export const REMINDER_CLEARANCE_MS = 25 * 60 * MINUTE_MS;

function toDemoSlots(providerId: string, rows: readonly { id: string; startsAt: string; endsAt: string }[]): DemoSlot[] {
  return rows.map((s) => ({ id: s.id, providerId, startsAt: s.startsAt, endsAt: s.endsAt }));
}

const iso = (ms: number) => new Date(ms).toISOString();
const local = (p: DemoProvider, ms: number) => DateTime.fromMillis(ms, { zone: p.timeZone }).toFormat("ccc yyyy-MM-dd HH:mm");

/**
 * availableSlots over [t0, t0 + spanMs), where t0 is taken just before the call and t1 just
 * after it: the server's "now" lies between them.
 */
async function listSlots(url: string, p: DemoProvider, spanMs: number): Promise<{ slots: DemoSlot[]; t0: number; t1: number }> {
  const t0 = Date.now();
  const data = await request<AvailableSlotsData>(url, AVAILABLE_SLOTS, { providerId: p.id, from: iso(t0), to: iso(t0 + spanMs) });
  const t1 = Date.now();
  const problems = data.availableSlots.filter((s) => s.status !== "AVAILABLE").map((s) => `${s.id} is ${s.status}`);
  if (problems.length > 0) throw new Error(`availableSlots of ${p.name} lists slots that are not AVAILABLE: ${problems.join(", ")}`);
  return { slots: toDemoSlots(p.id, data.availableSlots), t0, t1 };
}

/** Compares setSchedule's answer with what was sent (the server may order windows and overrides). */
function checkScheduleAnswer(p: DemoProvider, sent: ScheduleRules, got: ScheduleRules, problems: string[]): void {
  const norm = (r: ScheduleRules) =>
    JSON.stringify({
      ...r,
      weekly: r.weekly.map((w) => `${w.weekday} ${w.startTime}-${w.endTime}`).sort(),
      overrides: r.overrides.map((o) => `${o.date} ${o.windows.map((w) => `${w.startTime}-${w.endTime}`).join(",")}`).sort(),
    });
  if (norm(sent) !== norm(got)) problems.push(`${p.name}: setSchedule answered ${norm(got)}, sent ${norm(sent)}`);
}

async function setSchedule(url: string, p: DemoProvider, rules: ScheduleRules, problems: string[]): Promise<{ tSet: number }> {
  const tSet = Date.now();
  const data = await request<SetScheduleData>(url, SET_SCHEDULE, { input: { providerId: p.id, ...rules } }, p.owner.token);
  checkScheduleAnswer(p, rules, data.setSchedule, problems);
  p.schedule = data.setSchedule;
  return { tSet };
}

async function addWindow(url: string, p: DemoProvider, date: string, w: TimeWindow, slotMinutes: number): Promise<DemoSlot[]> {
  const day = DateTime.fromISO(date, { zone: p.timeZone });
  const atTime = (t: string) => day.set({ hour: Number(t.slice(0, 2)), minute: Number(t.slice(3, 5)) }).toUTC().toISO()!;
  const data = await request<AddAvailabilityData>(
    url,
    ADD_AVAILABILITY,
    { input: { providerId: p.id, startsAt: atTime(w.startTime), endsAt: atTime(w.endTime), slotMinutes } },
    p.owner.token,
  );
  return toDemoSlots(p.id, data.addAvailability);
}

/**
 * Checks a full-horizon availableSlots list of a schedule provider: every listed slot lies on
 * the schedule's grid (or is one of its one-off slots), none starts within the minimum notice
 * or beyond the horizon, and every grid slot between those bounds is listed.
 */
function checkAgainstSchedule(
  p: DemoProvider,
  listed: { slots: DemoSlot[]; t0: number; t1: number },
  rules: ScheduleRules,
  tSet: number,
  oneOff: readonly DemoSlot[],
  problems: string[],
): void {
  const notice = rules.minimumNoticeMinutes * MINUTE_MS;
  const horizonEnd = tSet + rules.horizonDays * DAY_MS;
  const grid = expectedScheduleSlots(rules, p.timeZone, tSet, horizonEnd + DAY_MS);
  for (const s of grid) p.gridKeys.add(slotKey(s));
  const allowed = new Set([...grid.map(slotKey), ...oneOff.map(slotKey)]);
  const listedKeys = new Set(listed.slots.map(slotKey));
  for (const s of listed.slots) {
    const start = Date.parse(s.startsAt);
    if (!allowed.has(slotKey(s))) problems.push(`${p.name}: listed slot ${local(p, start)} local is not on its schedule`);
    if (start < listed.t0 + notice) problems.push(`${p.name}: listed slot ${local(p, start)} local starts within the minimum notice`);
    if (start >= listed.t1 + rules.horizonDays * DAY_MS) problems.push(`${p.name}: listed slot ${local(p, start)} local lies beyond the horizon`);
  }
  const missing = [...grid, ...oneOff.map((s) => ({ startsAt: Date.parse(s.startsAt), endsAt: Date.parse(s.endsAt) }))].filter(
    (s) => s.startsAt > listed.t1 + notice && s.startsAt < horizonEnd && !listedKeys.has(slotKey(s)),
  );
  for (const s of missing.slice(0, 5)) problems.push(`${p.name}: its schedule yields ${local(p, s.startsAt)} local, availableSlots does not list it`);
  if (missing.length > 5) problems.push(`${p.name}: ... and ${missing.length - 5} more schedule slots missing`);
}

async function publishSchedule(url: string, p: DemoProvider, ledger: Ledger, now: DateTime, problems: string[]): Promise<void> {
  const full = scheduleRules(p.plan, p.timeZone, now);
  const horizonOf = (rules: ScheduleRules) => (rules.horizonDays + 1) * DAY_MS;
  let before: DemoSlot[] = [];
  if (p.plan.republish) {
    // The owner first publishes plain hours, then adds a lunch break and a closed day: the
    // second setSchedule must withdraw exactly the slots that no longer fit and keep the rest (same ids).
    const first = scheduleRules(p.plan, p.timeZone, now, false);
    const { tSet } = await setSchedule(url, p, first, problems);
    const listed = await listSlots(url, p, horizonOf(first));
    checkAgainstSchedule(p, listed, first, tSet, [], problems);
    before = listed.slots;
    ledger.slotsCreated(before);
  }
  const { tSet } = await setSchedule(url, p, full, problems);
  const oneOff = p.plan.oneOffSaturday ? await addWindow(url, p, localDates(p.timeZone, now).saturday, SATURDAY_HOURS, 30) : [];
  const listed = await listSlots(url, p, horizonOf(full));
  checkAgainstSchedule(p, listed, full, tSet, oneOff, problems);

  const after = new Map(listed.slots.map((s) => [s.id, s]));
  const afterKeys = new Map(listed.slots.map((s) => [slotKey(s), s.id]));
  const fullGrid = new Set(expectedScheduleSlots(full, p.timeZone, tSet, tSet + horizonOf(full)).map(slotKey));
  // A slot of the first list that is gone now was withdrawn unless the new schedule still
  // yields it; then it may only have slipped into the minimum notice since.
  const gone = before.filter((s) => !after.has(s.id));
  const withdrawn = gone.filter((s) => !fullGrid.has(slotKey(s)));
  for (const s of gone) {
    if (fullGrid.has(slotKey(s)) && Date.parse(s.startsAt) > listed.t1 + full.minimumNoticeMinutes * MINUTE_MS) {
      problems.push(`${p.name}: republishing withdrew ${local(p, Date.parse(s.startsAt))} local, which the new schedule still yields`);
    }
  }
  for (const s of before) {
    const id = afterKeys.get(slotKey(s));
    if (id !== undefined && id !== s.id) problems.push(`${p.name}: republishing replaced slot ${s.id} by ${id} instead of keeping it`);
  }
  ledger.slotsWithdrawn(withdrawn);
  const known = new Set(before.map((s) => s.id));
  ledger.slotsCreated([...listed.slots.filter((s) => !known.has(s.id)), ...oneOff.filter((s) => !after.has(s.id))]);
  for (const s of [...before, ...listed.slots, ...oneOff]) p.knownSlots.set(s.id, s);
}

/** One-off windows (addAvailability) on the provider's working days of the coming week. */
async function publishOneOff(url: string, p: DemoProvider, ledger: Ledger, now: DateTime): Promise<void> {
  const today = now.setZone(p.timeZone).startOf("day");
  for (let d = 1; d <= 7; d++) {
    const day = today.plus({ days: d });
    if (!p.plan.days.includes(day.weekday)) continue;
    const slots = await addWindow(url, p, day.toISODate()!, { startTime: p.plan.open, endTime: p.plan.close }, p.plan.slotMinutes);
    ledger.slotsCreated(slots);
    for (const s of slots) p.knownSlots.set(s.id, s);
  }
}

/**
 * Publishes every provider's availability, then reads the coming week's bookable slots with
 * availableSlots into `weekSlots`, and the ones far enough ahead to book into `slots`.
 * Anything that contradicts the plan is added to `problems`.
 */
export async function publishAvailability(url: string, providers: readonly DemoProvider[], ledger: Ledger, problems: string[]): Promise<void> {
  const now = DateTime.now();
  await mapLimit(providers, 6, async (p) => {
    if (p.plan.mode === "schedule") await publishSchedule(url, p, ledger, now, problems);
    else await publishOneOff(url, p, ledger, now);

    const week = await listSlots(url, p, WEEK_MS);
    const notice = p.schedule ? p.schedule.minimumNoticeMinutes * MINUTE_MS : 0;
    for (const s of week.slots) if (!p.knownSlots.has(s.id)) problems.push(`${p.name}: the coming week lists slot ${s.id}, which setup never produced`);
    const weekKeys = new Set(week.slots.map((s) => s.id));
    const unlisted = [...p.knownSlots.values()].filter((s) => {
      const start = Date.parse(s.startsAt);
      return !ledger.withdrawn.has(s.id) && start > week.t1 + notice && start < week.t0 + WEEK_MS && !weekKeys.has(s.id);
    });
    for (const s of unlisted) problems.push(`${p.name}: slot ${local(p, Date.parse(s.startsAt))} local is missing from the coming week's availableSlots`);
    p.weekSlots = week.slots;
    p.slots = week.slots.filter((s) => Date.parse(s.startsAt) >= week.t1 + REMINDER_CLEARANCE_MS);
    p.hiddenBefore = week.t1 + (p.schedule ? notice : 0);
  });
}

/** The provider's first bookable slot at 10:00 local or later, on the first day it has bookable slots. */
export function popularSlot(p: DemoProvider): DemoSlot {
  const local = (s: DemoSlot) => DateTime.fromISO(s.startsAt, { zone: p.timeZone });
  const firstDay = p.slots[0] && local(p.slots[0]).toISODate();
  const slot = p.slots.find((s) => local(s).toISODate() === firstDay && local(s).hour >= 10);
  if (!slot) throw new Error(`${p.name} has no bookable slot at 10:00 local or later on its first bookable day`);
  return slot;
}
