/**
 * Schedule rules: their shape, their limits, and their validation (`parseScheduleRules`). Turning
 * rules into slots is in ./schedule.ts, which re-exports all of this.
 */
import { DateTime, IANAZone } from "luxon";
import { BadInputError } from "./errors";

export interface WeeklyWindow {
  /** ISO weekday: 1 = Monday ... 7 = Sunday. */
  weekday: number;
  /** "HH:MM", 24 h local wall-clock time. */
  startTime: string;
  /** "HH:MM", or "24:00" for the end of the day; after startTime. */
  endTime: string;
}

export interface TimeWindow {
  startTime: string;
  endTime: string;
}

export interface DateOverride {
  /** Local date "YYYY-MM-DD". */
  date: string;
  /** Replaces that date's weekly windows; [] = closed that day. */
  windows: TimeWindow[];
}

export interface ScheduleRules {
  /** IANA zone name. */
  timeZone: string;
  slotMinutes: number;
  /** Gap kept free after every slot of a window. */
  bufferMinutes: number;
  minimumNoticeMinutes: number;
  horizonDays: number;
  weekly: WeeklyWindow[];
  overrides: DateOverride[];
}

export interface GeneratedSlot {
  startsAt: Date;
  endsAt: Date;
}

export const SCHEDULE_LIMITS = {
  slotMinutes: { min: 5, max: 1440 },
  bufferMinutes: { min: 0, max: 1440 },
  minimumNoticeMinutes: { min: 0, max: 365 * 24 * 60 },
  horizonDays: { min: 1, max: 365 },
  maxWeeklyWindows: 50,
  maxOverrides: 366,
  maxWindowsPerOverride: 50,
  /**
   * Windows across all overrides: two a day for a whole (leap) year. What a schedule stores is
   * what every read of it returns, so this bounds `Schedule.overrides` in size and query cost.
   */
  maxOverrideWindows: 732,
} as const;

const DAY_MINUTES = 24 * 60;
const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** Minutes since local midnight of "HH:MM" ("24:00" only when `allowEndOfDay`). */
function parseTime(value: unknown, field: string, allowEndOfDay: boolean): number {
  if (typeof value !== "string") throw new BadInputError(`${field} must be a time "HH:MM"`, field);
  if (value === "24:00") {
    if (allowEndOfDay) return DAY_MINUTES;
    throw new BadInputError(`${field} may not be 24:00 (24:00 is only allowed as an endTime, meaning end of day)`, field);
  }
  const m = TIME_RE.exec(value);
  if (!m) throw new BadInputError(`${field} must be a 24-hour time "HH:MM" between 00:00 and 23:59, got "${value}"`, field);
  return Number(m[1]) * 60 + Number(m[2]);
}

function requireInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new BadInputError(`${field} must be an integer between ${min} and ${max}, got ${String(value)}`, field);
  }
  return value;
}

function requireArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new BadInputError(`${field} must be a list`, field);
  return value;
}

function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null) throw new BadInputError(`${field} must be an object`, field);
  return value as Record<string, unknown>;
}

interface CheckedWindow {
  start: number;
  end: number;
  startTime: string;
  endTime: string;
  field: string;
}

function checkWindow(raw: unknown, field: string): CheckedWindow {
  const w = requireObject(raw, field);
  const start = parseTime(w.startTime, `${field}.startTime`, false);
  const end = parseTime(w.endTime, `${field}.endTime`, true);
  if (end <= start) {
    throw new BadInputError(`${field}.endTime (${String(w.endTime)}) must be after startTime (${String(w.startTime)})`, `${field}.endTime`);
  }
  return { start, end, startTime: w.startTime as string, endTime: w.endTime as string, field };
}

/** Sorts windows of one day by start and rejects overlaps (touching, e.g. 09-12 and 12-17, is fine). */
function sortAndCheckOverlap(windows: CheckedWindow[], dayLabel: string): CheckedWindow[] {
  const sorted = [...windows].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.start < prev.end) {
      throw new BadInputError(
        `Windows overlap on ${dayLabel}: ${prev.startTime}-${prev.endTime} (${prev.field}) and ${cur.startTime}-${cur.endTime} (${cur.field})`,
        cur.field,
      );
    }
  }
  return sorted;
}

function checkDate(value: unknown, field: string): string {
  const m = typeof value === "string" ? DATE_RE.exec(value) : null;
  if (!m) throw new BadInputError(`${field} must be a date "YYYY-MM-DD", got ${JSON.stringify(value)}`, field);
  const d = DateTime.fromObject({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }, { zone: "UTC" });
  if (!d.isValid) throw new BadInputError(`${field} is not a real calendar date: ${value as string}`, field);
  return value as string;
}

/**
 * True for an IANA time zone name luxon knows ("Europe/Berlin", "UTC", "Etc/GMT+5"). Offsets
 * such as "+05:00" are refused: Node 24's ICU accepts them as zones, but an offset has no
 * daylight-saving rules, so a provider's wall-clock hours would drift twice a year.
 */
export function isIanaZoneName(zone: unknown): zone is string {
  return typeof zone === "string" && !/^[+-]/.test(zone.trim()) && IANAZone.isValidZone(zone);
}

/** Weekly windows: each weekday's windows sorted by start and free of overlaps, weekdays in order. */
function parseWeekly(value: unknown): WeeklyWindow[] {
  const weeklyRaw = requireArray(value, "weekly");
  if (weeklyRaw.length > SCHEDULE_LIMITS.maxWeeklyWindows) {
    throw new BadInputError(`At most ${SCHEDULE_LIMITS.maxWeeklyWindows} weekly windows are allowed, got ${weeklyRaw.length}`, "weekly");
  }
  const byWeekday = new Map<number, CheckedWindow[]>();
  weeklyRaw.forEach((raw, i) => {
    const field = `weekly[${i}]`;
    const weekday = requireInteger(requireObject(raw, field).weekday, `${field}.weekday`, 1, 7);
    const w = checkWindow(raw, field);
    byWeekday.set(weekday, [...(byWeekday.get(weekday) ?? []), w]);
  });
  const weekly: WeeklyWindow[] = [];
  for (const weekday of [...byWeekday.keys()].sort((a, b) => a - b)) {
    for (const w of sortAndCheckOverlap(byWeekday.get(weekday)!, `weekday ${weekday}`)) {
      weekly.push({ weekday, startTime: w.startTime, endTime: w.endTime });
    }
  }
  return weekly;
}

/** Date overrides: one per date, within the per-override and overall window caps, sorted by date. */
function parseOverrides(value: unknown): DateOverride[] {
  const L = SCHEDULE_LIMITS;
  const overridesRaw = requireArray(value, "overrides");
  if (overridesRaw.length > L.maxOverrides) {
    throw new BadInputError(`At most ${L.maxOverrides} date overrides are allowed, got ${overridesRaw.length}`, "overrides");
  }
  const seenDates = new Set<string>();
  let overrideWindows = 0;
  const overrides: DateOverride[] = overridesRaw.map((raw, i) => {
    const field = `overrides[${i}]`;
    const o = requireObject(raw, field);
    const date = checkDate(o.date, `${field}.date`);
    if (seenDates.has(date)) throw new BadInputError(`Duplicate override for date ${date}`, `${field}.date`);
    seenDates.add(date);
    const windowsRaw = requireArray(o.windows, `${field}.windows`);
    if (windowsRaw.length > L.maxWindowsPerOverride) {
      throw new BadInputError(`At most ${L.maxWindowsPerOverride} windows per override are allowed`, `${field}.windows`);
    }
    overrideWindows += windowsRaw.length;
    if (overrideWindows > L.maxOverrideWindows) {
      throw new BadInputError(`At most ${L.maxOverrideWindows} windows across all date overrides are allowed`, `${field}.windows`);
    }
    const windows = sortAndCheckOverlap(
      windowsRaw.map((w, j) => checkWindow(w, `${field}.windows[${j}]`)),
      date,
    ).map((w) => ({ startTime: w.startTime, endTime: w.endTime }));
    return { date, windows };
  });
  return overrides.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/**
 * Validates schedule rules and returns a normalised copy: weekly windows sorted by weekday then
 * start, overrides sorted by date with their windows sorted by start, unknown properties dropped.
 * Checked in this order: time zone, the minute and day settings, weekly windows, overrides.
 * @throws BadInputError (with `details.field`, e.g. "weekly[2].endTime") on the first problem found
 */
export function parseScheduleRules(input: ScheduleRules): ScheduleRules {
  const rules = requireObject(input, "rules");
  const timeZone = rules.timeZone;
  if (!isIanaZoneName(timeZone)) {
    throw new BadInputError(`Unknown IANA time zone: ${String(timeZone)}`, "timeZone");
  }
  const L = SCHEDULE_LIMITS;
  const slotMinutes = requireInteger(rules.slotMinutes, "slotMinutes", L.slotMinutes.min, L.slotMinutes.max);
  const bufferMinutes = requireInteger(rules.bufferMinutes, "bufferMinutes", L.bufferMinutes.min, L.bufferMinutes.max);
  const minimumNoticeMinutes = requireInteger(
    rules.minimumNoticeMinutes,
    "minimumNoticeMinutes",
    L.minimumNoticeMinutes.min,
    L.minimumNoticeMinutes.max,
  );
  const horizonDays = requireInteger(rules.horizonDays, "horizonDays", L.horizonDays.min, L.horizonDays.max);
  const weekly = parseWeekly(rules.weekly);
  const overrides = parseOverrides(rules.overrides);
  return { timeZone, slotMinutes, bufferMinutes, minimumNoticeMinutes, horizonDays, weekly, overrides };
}
