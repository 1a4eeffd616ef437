/**
 * How each demo provider publishes its availability, and what a client expects that to
 * produce. The expectation is computed here from the plan alone (luxon, the provider's own
 * zone), so the demo can check the server's generated slots against it.
 */
import { DateTime } from "luxon";
import type { DateOverride, ScheduleRules, TimeWindow, WeeklyWindow } from "./operations";

/** One provider's way of publishing availability. */
export interface AvailabilityPlan {
  /** `schedule`: a weekly schedule via setSchedule; `one-off`: addAvailability windows only. */
  mode: "schedule" | "one-off";
  slotMinutes: number;
  bufferMinutes: number;
  /** ISO weekdays the provider works. */
  days: readonly number[];
  open: string;
  close: string;
  lunch?: TimeWindow;
  /** A date override in the coming week: closed that day, short hours, or an extra Saturday. */
  override?: "closed" | "short-hours" | "saturday";
  /** A schedule provider that also publishes a one-off Saturday morning with addAvailability. */
  oneOffSaturday?: boolean;
  /** Publishes a first schedule without lunch break and override, then replaces it. */
  republish?: boolean;
}

export const MINIMUM_NOTICE_MINUTES = 60;
export const HORIZON_DAYS = 14;
const WEEKDAYS = [1, 2, 3, 4, 5] as const;
const LUNCH = { startTime: "12:00", endTime: "13:00" };

/** Indexed like the provider catalogue (index modulo its length). */
export const PLANS: readonly AvailabilityPlan[] = [
  { mode: "schedule", slotMinutes: 30, bufferMinutes: 0, days: WEEKDAYS, open: "09:00", close: "17:00", lunch: LUNCH, override: "closed", republish: true },
  { mode: "schedule", slotMinutes: 30, bufferMinutes: 10, days: [2, 3, 4, 5, 6], open: "10:00", close: "18:00" },
  { mode: "schedule", slotMinutes: 30, bufferMinutes: 0, days: WEEKDAYS, open: "09:00", close: "17:00", lunch: LUNCH, override: "short-hours" },
  { mode: "schedule", slotMinutes: 45, bufferMinutes: 15, days: WEEKDAYS, open: "08:00", close: "16:00" },
  { mode: "one-off", slotMinutes: 30, bufferMinutes: 0, days: WEEKDAYS, open: "09:00", close: "17:00" },
  { mode: "schedule", slotMinutes: 60, bufferMinutes: 0, days: [2, 3, 4, 5, 6], open: "11:00", close: "19:00", lunch: { startTime: "14:00", endTime: "15:00" } },
  { mode: "schedule", slotMinutes: 45, bufferMinutes: 15, days: WEEKDAYS, open: "14:00", close: "20:00", override: "saturday" },
  { mode: "one-off", slotMinutes: 30, bufferMinutes: 0, days: WEEKDAYS, open: "09:00", close: "17:00" },
  { mode: "schedule", slotMinutes: 30, bufferMinutes: 10, days: WEEKDAYS, open: "10:00", close: "19:00", lunch: { startTime: "13:00", endTime: "14:00" }, override: "closed" },
  { mode: "schedule", slotMinutes: 20, bufferMinutes: 0, days: WEEKDAYS, open: "08:00", close: "17:00", lunch: LUNCH, oneOffSaturday: true },
  { mode: "schedule", slotMinutes: 60, bufferMinutes: 0, days: WEEKDAYS, open: "10:00", close: "18:00", lunch: { startTime: "13:00", endTime: "14:00" }, override: "short-hours" },
  { mode: "schedule", slotMinutes: 30, bufferMinutes: 10, days: WEEKDAYS, open: "08:00", close: "16:00", override: "closed" },
];

/** Short-hours override windows and the one-off / override Saturday window. */
export const SHORT_HOURS: TimeWindow = { startTime: "10:00", endTime: "13:00" };
export const SATURDAY_HOURS: TimeWindow = { startTime: "09:00", endTime: "12:00" };

function windowsOfDay(plan: AvailabilityPlan, withLunch: boolean): TimeWindow[] {
  if (!withLunch || !plan.lunch) return [{ startTime: plan.open, endTime: plan.close }];
  return [
    { startTime: plan.open, endTime: plan.lunch.startTime },
    { startTime: plan.lunch.endTime, endTime: plan.close },
  ];
}

/**
 * Local dates (YYYY-MM-DD) relative to `now` in `timeZone`: the n-th Monday-Friday after
 * today, and the first Saturday after today (within the coming week unless today is one).
 */
export function localDates(timeZone: string, now: DateTime): { weekday: (n: number) => string; saturday: string } {
  const today = now.setZone(timeZone).startOf("day");
  const weekday = (n: number) => {
    let d = today;
    for (let seen = 0; seen < n; ) {
      d = d.plus({ days: 1 });
      if (d.weekday <= 5) seen++;
    }
    return d.toISODate()!;
  };
  let sat = today.plus({ days: 1 });
  while (sat.weekday !== 6) sat = sat.plus({ days: 1 });
  return { weekday, saturday: sat.toISODate()! };
}

/**
 * The SetScheduleInput rules (without providerId) of a plan. `full: false` is the first
 * version of a republished schedule: no lunch break and no override yet.
 */
export function scheduleRules(plan: AvailabilityPlan, timeZone: string, now: DateTime, full = true): ScheduleRules {
  const weekly: WeeklyWindow[] = plan.days.flatMap((weekday) => windowsOfDay(plan, full).map((w) => ({ weekday, ...w })));
  const dates = localDates(timeZone, now);
  const overrides: DateOverride[] = [];
  if (full && plan.override === "closed") overrides.push({ date: dates.weekday(3), windows: [] });
  if (full && plan.override === "short-hours") overrides.push({ date: dates.weekday(2), windows: [SHORT_HOURS] });
  if (full && plan.override === "saturday") overrides.push({ date: dates.saturday, windows: [SATURDAY_HOURS] });
  return {
    slotMinutes: plan.slotMinutes,
    bufferMinutes: plan.bufferMinutes,
    minimumNoticeMinutes: MINIMUM_NOTICE_MINUTES,
    horizonDays: HORIZON_DAYS,
    weekly,
    overrides,
  };
}

/** A wall-clock time on a local date as an instant. The demo's windows are all in daytime, away from DST gaps. */
function at(date: DateTime, time: string, timeZone: string): number {
  const [hour, minute] = time.split(":").map(Number) as [number, number];
  return DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour, minute }, { zone: timeZone }).toMillis();
}

/** Identity of a slot by its times: `${startMs}:${endMs}`. */
export function slotKey(s: { startsAt: string | number; endsAt: string | number }): string {
  const ms = (v: string | number) => (typeof v === "number" ? v : Date.parse(v));
  return `${ms(s.startsAt)}:${ms(s.endsAt)}`;
}

/**
 * The slots a schedule yields with a start in [fromMs, toMs), as a client reads the rules:
 * per local date the override's windows or the weekday's, slot k of a window starting
 * k * (slot + buffer) minutes after the window opens and ending by its close.
 */
export function expectedScheduleSlots(rules: ScheduleRules, timeZone: string, fromMs: number, toMs: number): { startsAt: number; endsAt: number }[] {
  const overrides = new Map(rules.overrides.map((o) => [o.date, o.windows]));
  const out: { startsAt: number; endsAt: number }[] = [];
  const slotMs = rules.slotMinutes * 60_000;
  const stepMs = (rules.slotMinutes + rules.bufferMinutes) * 60_000;
  const last = DateTime.fromMillis(toMs, { zone: timeZone }).startOf("day").plus({ days: 1 });
  for (let day = DateTime.fromMillis(fromMs, { zone: timeZone }).startOf("day").minus({ days: 1 }); day <= last; day = day.plus({ days: 1 })) {
    const windows = overrides.get(day.toISODate()!) ?? rules.weekly.filter((w) => w.weekday === day.weekday);
    for (const w of windows) {
      const open = at(day, w.startTime, timeZone);
      const close = at(day, w.endTime, timeZone);
      for (let start = open; start + slotMs <= close; start += stepMs) {
        if (start >= fromMs && start < toMs) out.push({ startsAt: start, endsAt: start + slotMs });
      }
    }
  }
  return out.sort((a, b) => a.startsAt - b.startsAt);
}

/** One line describing a plan, for the summary. */
export function describePlan(plan: AvailabilityPlan, rules: ScheduleRules | undefined): { mode: string; slot: string; lunch: string; override: string } {
  const mode = plan.mode === "one-off" ? "one-off windows" : plan.oneOffSaturday ? "schedule + one-off Sat" : plan.republish ? "schedule (republished)" : "schedule";
  const days = plan.days.join() === "1,2,3,4,5" ? "Mon-Fri" : plan.days.join() === "2,3,4,5,6" ? "Tue-Sat" : plan.days.join(",");
  const slot = `${days} ${plan.open}-${plan.close}, ${plan.slotMinutes} min${plan.bufferMinutes ? ` +${plan.bufferMinutes} buffer` : ""}`;
  const lunch = plan.lunch ? `${plan.lunch.startTime}-${plan.lunch.endTime}` : "-";
  const o = rules?.overrides[0];
  const day = o && `${DateTime.fromISO(o.date).toFormat("ccc")} ${o.date}`;
  const override = !o ? "-" : o.windows.length === 0 ? `closed ${day}` : `${day} ${o.windows.map((w) => `${w.startTime}-${w.endTime}`).join(",")} only`;
  return { mode, slot, lunch, override };
}
