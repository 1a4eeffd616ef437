/**
 * Weekly schedules in a provider's own IANA time zone, turned into concrete slots (UTC instants).
 * Pure: no database, no GraphQL. All zone data comes from luxon; the only arithmetic done here
 * is on absolute instants (slot k starts k * (slot + buffer) minutes after its window's start).
 *
 * How a local wall-clock time on a local date becomes an instant ("resolving"):
 *   the boundary is the FIRST instant at which the zone's wall clock reads that date and time or later.
 *   - an ordinary time has exactly one instant;
 *   - an ambiguous time (repeated hour when clocks go back) takes its EARLIER occurrence
 *     (the pre-transition offset), so 01:00-03:00 on a US fall-back day spans 3 real hours and
 *     00:00-01:30 ends at the first 01:30 (the repeated 01:00-01:30 is not part of that window);
 *   - a nonexistent time (skipped hour when clocks go forward) resolves to the transition
 *     instant itself, i.e. to the first wall time after the gap: 02:30-04:00 on a US
 *     spring-forward day is open 03:00-04:00, and 01:00-02:30 closes at 03:00 (= 02:00 EST).
 * luxon's own answer is not used as-is for the last two cases: for a nonexistent time it moves
 * forward by the size of the gap (02:30 -> 03:30), and for an ambiguous time `fromObject`
 * picks an offset based on the CURRENT date's offset, which would make results depend on
 * when the code runs.
 */
import { DateTime } from "luxon";
import { BadInputError } from "./errors";
import { parseScheduleRules, type ScheduleRules, type TimeWindow } from "./schedule-rules";

export { SCHEDULE_LIMITS, isIanaZoneName, parseScheduleRules } from "./schedule-rules";
export type { DateOverride, ScheduleRules, TimeWindow, WeeklyWindow } from "./schedule-rules";

export interface GeneratedSlot {
  startsAt: Date;
  endsAt: Date;
}

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** Orders wall-clock readings; a plain positional number, no offsets involved. */
function wallKey(year: number, month: number, day: number, minuteOfDay: number): number {
  return ((year * 100 + month) * 100 + day) * DAY_MINUTES + minuteOfDay;
}

function wallKeyOf(epochMinute: number, zone: string): number {
  const dt = DateTime.fromMillis(epochMinute * MINUTE_MS, { zone });
  return wallKey(dt.year, dt.month, dt.day, dt.hour * 60 + dt.minute);
}

/**
 * The first instant (epoch ms) at which the zone's wall clock reads `date` + `minuteOfDay` or
 * later; `minuteOfDay` 1440 means midnight starting the next date. See the module comment.
 */
function resolveWallTime(date: LocalDate, minuteOfDay: number, zone: string): number {
  let { year, month, day } = date;
  let minutes = minuteOfDay;
  if (minutes === DAY_MINUTES) {
    const next = DateTime.fromObject({ year, month, day }, { zone: "UTC" }).plus({ days: 1 });
    ({ year, month, day } = next);
    minutes = 0;
  }
  const hour = Math.floor(minutes / 60);
  const minute = minutes % 60;
  const dt = DateTime.fromObject({ year, month, day, hour, minute }, { zone });
  if (dt.year === year && dt.month === month && dt.day === day && dt.hour === hour && dt.minute === minute) {
    // Exists; when ambiguous luxon lists both occurrences and we take the earlier one.
    return Math.min(...dt.getPossibleOffsets().map((d) => d.toMillis()));
  }
  // Nonexistent (inside a forward gap): find the transition, i.e. the first minute whose wall
  // clock reads the target or later, by bisection on luxon's zone data. Gaps are rare (a couple
  // per zone and year), so this does not affect overall speed.
  const target = wallKey(year, month, day, minutes);
  const around = Math.floor(dt.toMillis() / MINUTE_MS);
  let lo = around - 2 * DAY_MINUTES; // wall clock before target
  let hi = around + 2 * DAY_MINUTES; // wall clock at or after target
  if (wallKeyOf(lo, zone) >= target || wallKeyOf(hi, zone) < target) {
    throw new Error(`Cannot resolve ${year}-${month}-${day} ${hour}:${minute} in ${zone}`);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallKeyOf(mid, zone) >= target) hi = mid;
    else lo = mid;
  }
  return hi * MINUTE_MS;
}

/** Not `instanceof`: Dates may come from another realm (e.g. jest's module sandbox vs a driver). */
function isValidDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === "[object Date]" && !Number.isNaN((value as Date).getTime());
}

function minutesOf(time: string): number {
  return time === "24:00" ? DAY_MINUTES : Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/**
 * Slots whose start lies in [from, to), sorted by start, from the weekly windows and date
 * overrides read in `rules.timeZone`.
 *
 * - For each local date touched by the range, the windows are the override's (if the date has
 *   one; [] = closed) or else the weekly windows of that ISO weekday.
 * - A window's bounds are resolved as described in the module comment; slots are laid out in
 *   absolute time from its start: start_k = start + k * (slotMinutes + bufferMinutes), each
 *   exactly slotMinutes long, kept while it ends at or before the window's end. A window whose
 *   resolved end is not after its start (e.g. entirely inside a forward gap) yields nothing.
 * - The buffer separates consecutive slots of one window; windows that touch (09-12, 12-17)
 *   produce back-to-back slots at the junction.
 * - The output never has overlapping slots: should two windows' slots ever overlap, the later
 *   starting one is dropped.
 * - minimumNoticeMinutes and horizonDays are NOT applied here; the caller chooses from/to.
 *
 * Cost is proportional to the number of days, windows and slots produced (no per-minute loops).
 * Rules are validated with parseScheduleRules first.
 */
export function generateScheduleSlots(rules: ScheduleRules, from: Date, to: Date): GeneratedSlot[] {
  if (!isValidDate(from)) throw new BadInputError("from must be a valid date", "from");
  if (!isValidDate(to)) throw new BadInputError("to must be a valid date", "to");
  const fromMs = from.getTime();
  const toMs = to.getTime();
  if (toMs <= fromMs) return [];

  const r = parseScheduleRules(rules);
  const zone = r.timeZone;
  const slotMs = r.slotMinutes * MINUTE_MS;
  const stepMs = (r.slotMinutes + r.bufferMinutes) * MINUTE_MS;
  const overrides = new Map(r.overrides.map((o) => [o.date, o.windows]));
  const weekly = new Map<number, TimeWindow[]>();
  for (const w of r.weekly) weekly.set(w.weekday, [...(weekly.get(w.weekday) ?? []), w]);

  // A window of date D lies within [D 00:00, D+1 00:00] local, so the local dates of `from` and
  // `to` bound the days to look at; one extra day on each side costs little and keeps odd
  // transitions around midnight covered.
  const firstLocal = DateTime.fromMillis(fromMs, { zone });
  const lastLocal = DateTime.fromMillis(toMs, { zone });
  let day = DateTime.fromObject({ year: firstLocal.year, month: firstLocal.month, day: firstLocal.day }, { zone: "UTC" }).minus({ days: 1 });
  const lastDay = DateTime.fromObject({ year: lastLocal.year, month: lastLocal.month, day: lastLocal.day }, { zone: "UTC" }).plus({ days: 1 });

  const slots: { start: number; end: number }[] = [];
  for (; day.toMillis() <= lastDay.toMillis(); day = day.plus({ days: 1 })) {
    const windows = overrides.get(day.toISODate()!) ?? weekly.get(day.weekday) ?? [];
    const date: LocalDate = { year: day.year, month: day.month, day: day.day };
    for (const w of windows) {
      const windowStart = resolveWallTime(date, minutesOf(w.startTime), zone);
      const windowEnd = resolveWallTime(date, minutesOf(w.endTime), zone);
      if (windowEnd - windowStart < slotMs) continue;
      const lastK = Math.floor((windowEnd - windowStart - slotMs) / stepMs);
      const firstK = Math.max(0, Math.ceil((fromMs - windowStart) / stepMs));
      const endK = Math.min(lastK, Math.ceil((toMs - windowStart) / stepMs) - 1);
      for (let k = firstK; k <= endK; k++) {
        const start = windowStart + k * stepMs;
        slots.push({ start, end: start + slotMs });
      }
    }
  }

  slots.sort((a, b) => a.start - b.start || a.end - b.end);
  const out: GeneratedSlot[] = [];
  let lastEnd = -Infinity;
  for (const s of slots) {
    if (s.start < fromMs || s.start >= toMs || s.start < lastEnd) continue;
    out.push({ startsAt: new Date(s.start), endsAt: new Date(s.end) });
    lastEnd = s.end;
  }
  return out;
}

/**
 * The instant a slot must start after to be bookable at `now` (UTC): `now` plus the provider's
 * minimum notice in minutes (null or undefined: no schedule, so no notice).
 */
export function bookableAfter(now: Date, minimumNoticeMinutes: number | null | undefined): Date {
  return new Date(now.getTime() + (minimumNoticeMinutes ?? 0) * 60_000);
}
