/**
 * How many slots a schedule offers in a range, bounded by arithmetic on its wall-clock windows
 * alone: no window is resolved to instants and no slot is generated, so an oversized schedule
 * (5-minute slots, 24 h a day, a year ahead: ~100k slots) is refused in microseconds instead
 * of after generating everything (src/domain/schedule.ts, {@link generateScheduleSlots}).
 */
import { DateTime, IANAZone } from "luxon";
import type { ScheduleRules, TimeWindow } from "./schedule";

/**
 * The largest change of a window's real length a time-zone transition can make, in minutes:
 * most zones shift by 60 minutes, Antarctica/Troll by 120 (IANA tz database). A window that
 * spans a transition is this much longer or shorter than its wall-clock reading.
 */
const MAX_TRANSITION_MINUTES = 120;
const DAY_MINUTES = 24 * 60;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

function minutesOf(time: string): number {
  return time === "24:00" ? DAY_MINUTES : Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/** Slots laid out from a window's start, each `slotMinutes` long and `stepMinutes` apart, in `lengthMinutes`. */
function slotsIn(lengthMinutes: number, slotMinutes: number, stepMinutes: number): number {
  return lengthMinutes < slotMinutes ? 0 : Math.floor((lengthMinutes - slotMinutes) / stepMinutes) + 1;
}

/**
 * Bounds on `generateScheduleSlots(rules, from, to).length`, for rules already validated by
 * `parseScheduleRules`.
 *
 * On a local date without a time-zone transition a window's real length is its wall-clock
 * length, so its slots are counted exactly. A date with a transition (its offsets ~14 h before
 * its start and after its end, or at its middle, differ) counts nothing towards `atLeast` and
 * every window lengthened by {@link MAX_TRANSITION_MINUTES} towards `atMost`.
 * - `atLeast` counts only local dates wholly inside [from, to), whose every slot starts in the
 *   range: the schedule surely offers that many, so more than a limit here is a safe refusal.
 * - `atMost` counts every local date the range touches, plus the day on either side that
 *   generation also looks at. The two differ by about four days' slots.
 *
 * Cost: one step per local date and window (at most 367 x 50) and three zone-offset look-ups per date.
 */
export function scheduleSlotCountBounds(rules: ScheduleRules, from: Date, to: Date): { atLeast: number; atMost: number } {
  if (to.getTime() <= from.getTime()) return { atLeast: 0, atMost: 0 };
  const zone = rules.timeZone;
  const tz = IANAZone.create(zone);
  const step = rules.slotMinutes + rules.bufferMinutes;
  const overrides = new Map<string, TimeWindow[]>(rules.overrides.map((o) => [o.date, o.windows]));
  const weekly = new Map<number, TimeWindow[]>();
  for (const w of rules.weekly) weekly.set(w.weekday, [...(weekly.get(w.weekday) ?? []), w]);

  const localDay = (d: Date) => {
    const l = DateTime.fromMillis(d.getTime(), { zone });
    return DateTime.fromObject({ year: l.year, month: l.month, day: l.day }, { zone: "UTC" }).toMillis();
  };
  const first = localDay(from);
  const last = localDay(to);
  let atLeast = 0;
  let atMost = 0;
  // Plain UTC date arithmetic from here on: a local date's weekday does not depend on the zone.
  const start = first - DAY_MS;
  const startWeekday = new Date(start).getUTCDay(); // 0 = Sunday
  for (let ms = start, i = 0; ms <= last + DAY_MS; ms += DAY_MS, i++) {
    const date = new Date(ms).toISOString().slice(0, 10);
    const windows = overrides.get(date) ?? weekly.get(((startWeekday + i + 6) % 7) + 1) ?? [];
    if (windows.length === 0) continue;
    // A local date lies within [ms - 14 h, ms + 38 h] in UTC (offsets are within ±14 h).
    const offset = tz.offset(ms - 14 * HOUR_MS);
    const transition = tz.offset(ms + 12 * HOUR_MS) !== offset || tz.offset(ms + DAY_MS + 14 * HOUR_MS) !== offset;
    const inside = ms > first && ms < last && !transition;
    for (const w of windows) {
      const length = minutesOf(w.endTime) - minutesOf(w.startTime);
      atMost += slotsIn(transition ? length + MAX_TRANSITION_MINUTES : length, rules.slotMinutes, step);
      if (inside) atLeast += slotsIn(length, rules.slotMinutes, step);
    }
  }
  return { atLeast, atMost };
}
