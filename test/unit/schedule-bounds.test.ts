import fc from "fast-check";
import { DateTime } from "luxon";
import * as schedule from "../../src/domain/schedule";
import { scheduleSlotCountBounds } from "../../src/domain/schedule-bounds";

/**
 * Issue 10 item 8: the count of a schedule's slots is bounded by arithmetic, before (and without)
 * generating them. The bounds must hold around every kind of transition: these zones include
 * 30-minute shifts (Lord_Howe), midnight gaps (Sao_Paulo until 2019), a skipped date (Apia,
 * 2011-12-30) and 24:00 fall-backs (Tehran until 2022).
 */
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "America/Sao_Paulo", "Australia/Lord_Howe", "Pacific/Apia", "Asia/Tehran", "Antarctica/Troll"];
const DAY = 86_400_000;
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;

/** Non-overlapping windows of one day from sorted, distinct cut points (minutes 0..1440). */
const dayWindows = fc
  .uniqueArray(fc.integer({ min: 0, max: 96 }), { minLength: 0, maxLength: 8 })
  .map((cuts) => {
    const sorted = [...cuts].sort((a, b) => a - b);
    const windows: { startTime: string; endTime: string }[] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) windows.push({ startTime: hhmm(sorted[i]! * 15), endTime: sorted[i + 1]! === 96 ? "24:00" : hhmm(sorted[i + 1]! * 15) });
    return windows.filter((w) => w.startTime !== "24:00");
  });

const rulesAndRange = fc.record({
  timeZone: fc.constantFrom(...ZONES),
  slotMinutes: fc.constantFrom(5, 15, 30, 45, 60, 90, 1440),
  bufferMinutes: fc.constantFrom(0, 5, 10, 30),
  weekly: fc.array(fc.tuple(fc.integer({ min: 1, max: 7 }), dayWindows), { maxLength: 7 }),
  overrideDays: fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), dayWindows), { maxLength: 5 }),
  from: fc.integer({ min: Date.UTC(2010, 0, 1), max: Date.UTC(2028, 0, 1) }),
  days: fc.integer({ min: 1, max: 60 }),
});

type Drawn = typeof rulesAndRange extends fc.Arbitrary<infer T> ? T : never;

function build(r: Drawn): { rules: schedule.ScheduleRules; from: Date; to: Date } {
  const weekly = new Map<number, { startTime: string; endTime: string }[]>();
  for (const [weekday, windows] of r.weekly) weekly.set(weekday, windows);
  const overrides = new Map<string, { startTime: string; endTime: string }[]>();
  for (const [offset, windows] of r.overrideDays) overrides.set(new Date(r.from + offset * DAY).toISOString().slice(0, 10), windows);
  const rules = schedule.parseScheduleRules({
    timeZone: r.timeZone,
    slotMinutes: r.slotMinutes,
    bufferMinutes: r.bufferMinutes,
    minimumNoticeMinutes: 0,
    horizonDays: 30,
    weekly: [...weekly].flatMap(([weekday, ws]) => ws.map((w) => ({ weekday, ...w }))),
    overrides: [...overrides].map(([date, windows]) => ({ date, windows })),
  });
  return { rules, from: new Date(r.from), to: new Date(r.from + r.days * DAY) };
}

describe("scheduleSlotCountBounds", () => {
  test("brackets the generated count, within a few days' slots, across transitions", () => {
    fc.assert(
      fc.property(rulesAndRange, (r) => {
        const { rules, from, to } = build(r);
        const count = schedule.generateScheduleSlots(rules, from, to).length;
        const { atLeast, atMost } = scheduleSlotCountBounds(rules, from, to);
        expect(atLeast).toBeLessThanOrEqual(count);
        expect(count).toBeLessThanOrEqual(atMost);
        // The busiest possible day of these rules, padded by a transition, times the ~6 days counted loosely.
        const busiest = Math.max(0, ...[...r.weekly, ...r.overrideDays].map(([, ws]) => ws.length)) * (1440 / r.slotMinutes + 1);
        expect(atMost - atLeast).toBeLessThanOrEqual(6 * busiest);
      }),
      { numRuns: 300, seed: 20261204 },
    );
  });

  test("counts a year of 5-minute slots, 24 h a day, without resolving one window", () => {
    // Generation resolves every window of every date through luxon (DateTime.fromObject); counting must not.
    const rules = schedule.parseScheduleRules({
      timeZone: "Europe/Berlin",
      slotMinutes: 5,
      bufferMinutes: 0,
      minimumNoticeMinutes: 0,
      horizonDays: 365,
      weekly: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, startTime: "00:00", endTime: "24:00" })),
      overrides: [],
    });
    const from = new Date(Date.UTC(2027, 0, 1));
    const spy = jest.spyOn(DateTime, "fromObject");
    const { atLeast, atMost } = scheduleSlotCountBounds(rules, from, new Date(from.getTime() + 365 * DAY));
    expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
    spy.mockRestore();
    // 364 whole local dates inside the range (2027-01-02 to 2027-12-31), less the two transition
    // dates and the neighbour each one's ±14 h margin reaches, of 288 slots each.
    expect(atLeast).toBe(360 * 288);
    expect(atMost).toBeGreaterThanOrEqual(365 * 288);
  });
});
