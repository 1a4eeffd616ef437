/**
 * Property-based tests of generateScheduleSlots over many IANA zones.
 *
 * Zones (standard/daylight offsets): America/New_York (-05/-04), America/Los_Angeles (-08/-07),
 * America/Sao_Paulo (-03; DST with midnight transitions until 2019), America/St_Johns (-03:30/-02:30;
 * 00:01 transitions until 2011), Europe/London (+00/+01), Europe/Berlin (+01/+02), Europe/Moscow (+03;
 * +04 in 2011-2014), Africa/Casablanca (+01, +00 during Ramadan), Asia/Kolkata (+05:30),
 * Asia/Kathmandu (+05:45), Asia/Tehran (+03:30; +04:30 summers with 00:00/24:00 transitions until 2022),
 * Asia/Tokyo (+09), Australia/Adelaide (+09:30/+10:30), Australia/Lord_Howe (+10:30/+11, a 30-minute
 * shift), Australia/Sydney (+10/+11), Pacific/Chatham (+12:45/+13:45), Pacific/Auckland (+12/+13),
 * Pacific/Apia (+13; DST until 2021 and the skipped 2011-12-30), UTC.
 *
 * Ranges are drawn around the zone's transitions, which the test finds itself by scanning the
 * zone's offsets (through Intl, not luxon) from 2010 to 2028. The 2026-2028 ones are (UTC instant, offsets):
 *   America/New_York    2026-03-08T07:00 -05->-04, 2026-11-01T06:00 -04->-05, 2027-03-14T07:00, 2027-11-07T06:00, 2028-03-12T07:00, 2028-11-05T06:00
 *   America/Los_Angeles 2026-03-08T10:00 -08->-07, 2026-11-01T09:00 -07->-08, 2027-03-14T10:00, 2027-11-07T09:00, 2028-03-12T10:00, 2028-11-05T09:00
 *   America/St_Johns    2026-03-08T05:30 -03:30->-02:30, 2026-11-01T04:30 back, 2027-03-14T05:30, 2027-11-07T04:30, 2028-03-12T05:30, 2028-11-05T04:30
 *   Europe/London       2026-03-29T01:00 +00->+01, 2026-10-25T01:00 +01->+00, 2027-03-28T01:00, 2027-10-31T01:00, 2028-03-26T01:00, 2028-10-29T01:00
 *   Europe/Berlin       2026-03-29T01:00 +01->+02, 2026-10-25T01:00 +02->+01, 2027-03-28T01:00, 2027-10-31T01:00, 2028-03-26T01:00, 2028-10-29T01:00
 *   Africa/Casablanca   2026-02-15T02:00 +01->+00, 2026-03-22T02:00 +00->+01, then (tz 2026 releases, as in Node 24)
 *                       2026-09-20T01:00 +01->+00 for good; older releases: 2027-02-07T02:00, 2027-03-14T02:00, ...
 *   Australia/Adelaide  2026-04-04T16:30 +10:30->+09:30, 2026-10-03T16:30 +09:30->+10:30, 2027-04-03T16:30, 2027-10-02T16:30, 2028-04-01T16:30, 2028-09-30T16:30
 *   Australia/Lord_Howe 2026-04-04T15:00 +11->+10:30, 2026-10-03T15:30 +10:30->+11, 2027-04-03T15:00, 2027-10-02T15:30, 2028-04-01T15:00, 2028-09-30T15:30
 *   Australia/Sydney    2026-04-04T16:00 +11->+10, 2026-10-03T16:00 +10->+11, 2027-04-03T16:00, 2027-10-02T16:00, 2028-04-01T16:00, 2028-09-30T16:00
 *   Pacific/Chatham     2026-04-04T14:00 +13:45->+12:45, 2026-09-26T14:00 +12:45->+13:45, 2027-04-03T14:00, 2027-09-25T14:00, 2028-04-01T14:00, 2028-09-23T14:00
 *   Pacific/Auckland    2026-04-04T14:00 +13->+12, 2026-09-26T14:00 +12->+13, 2027-04-03T14:00, 2027-09-25T14:00, 2028-04-01T14:00, 2028-09-23T14:00
 * plus all 437 transitions of these zones in 2010-2025 (e.g. Sao_Paulo's 00:00->01:00 gaps,
 * Tehran's 24:00->23:00 fall-backs, Moscow's 2011/2014 offset changes, Apia skipping 2011-12-30).
 * The other zones (Kolkata, Kathmandu, Tokyo, UTC; Sao_Paulo, Moscow, Tehran, Apia after their
 * last change) are also drawn at random dates in 2010-2028.
 *
 * The oracle below resolves local times with Intl.DateTimeFormat directly, by trying each offset
 * the zone uses around that date and scanning a gap minute by minute: a different route from the
 * code (luxon + bisection), so agreement means something.
 */
import fc from "fast-check";
import { generateScheduleSlots, type DateOverride, type ScheduleRules, type WeeklyWindow } from "../../src/domain/schedule";

const ZONES = [
  "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "America/St_Johns", "Europe/London",
  "Europe/Berlin", "Europe/Moscow", "Africa/Casablanca", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Tehran",
  "Asia/Tokyo", "Australia/Adelaide", "Australia/Lord_Howe", "Australia/Sydney", "Pacific/Chatham",
  "Pacific/Auckland", "Pacific/Apia", "UTC",
] as const;
const MIN = 60_000;
const DAY = 86_400_000;
const SCAN_FROM = Date.UTC(2010, 0, 1);
const SCAN_TO = Date.UTC(2029, 0, 1);

// ---- oracle: wall clock through Intl -------------------------------------------------------
const formatters = new Map<string, Intl.DateTimeFormat>();
/** The zone's wall-clock reading at `ms`, encoded as the UTC epoch of the same reading (minute precision). */
function wallOf(zone: string, ms: number): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(ms)) if (part.type !== "literal") p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!);
}
const offsetAt = (zone: string, ms: number) => (wallOf(zone, ms) - Math.floor(ms / MIN) * MIN) / MIN;

/** All instants whose wall clock reads `wall` (0, 1 or 2 of them). */
function instantsOf(zone: string, wall: number): number[] {
  const offsets = new Set([offsetAt(zone, wall - 2 * DAY), offsetAt(zone, wall), offsetAt(zone, wall + 2 * DAY)]);
  return [...new Set([...offsets].map((o) => wall - o * MIN))].filter((t) => wallOf(zone, t) === wall).sort((a, b) => a - b);
}

/** First instant whose wall clock reads `wall` or later: the earlier of two, or the end of a gap. */
function resolve(zone: string, wall: number): number {
  const hits = instantsOf(zone, wall);
  if (hits.length > 0) return hits[0]!;
  const offsets = [offsetAt(zone, wall - 2 * DAY), offsetAt(zone, wall + 2 * DAY)];
  for (let t = wall - Math.max(...offsets) * MIN; t <= wall - Math.min(...offsets) * MIN; t += MIN) {
    if (wallOf(zone, t) >= wall) return t;
  }
  throw new Error(`oracle cannot resolve ${new Date(wall).toISOString()} in ${zone}`);
}

const hhmm = (m: number) => (m === 1440 ? "24:00" : `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`);
const toMinutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
const isoDate = (dayStart: number) => new Date(dayStart).toISOString().slice(0, 10);

interface OracleWindow { date: string; start: number; end: number; override: boolean }

/** Every window of every local date that can hold a slot starting in [from, to). */
function oracleWindows(rules: ScheduleRules, from: number, to: number): OracleWindow[] {
  const overrides = new Map(rules.overrides.map((o) => [o.date, o.windows]));
  const first = Math.floor(wallOf(rules.timeZone, from) / DAY) * DAY - DAY;
  const last = Math.floor(wallOf(rules.timeZone, to) / DAY) * DAY + DAY;
  const out: OracleWindow[] = [];
  for (let day = first; day <= last; day += DAY) {
    const override = overrides.get(isoDate(day));
    const weekday = new Date(day).getUTCDay() || 7;
    const windows = override ?? rules.weekly.filter((w) => w.weekday === weekday);
    for (const w of windows) {
      out.push({
        date: isoDate(day),
        start: resolve(rules.timeZone, day + toMinutes(w.startTime) * MIN),
        end: resolve(rules.timeZone, day + (w.endTime === "24:00" ? 1440 : toMinutes(w.endTime)) * MIN),
        override: override !== undefined,
      });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

function transitionsOf(zone: string): number[] {
  const found: number[] = [];
  const WEEK = 7 * DAY;
  for (let t = SCAN_FROM; t < SCAN_TO; t += WEEK) {
    const before = offsetAt(zone, t);
    if (offsetAt(zone, t + WEEK) === before) continue;
    let lo = t / MIN;
    let hi = (t + WEEK) / MIN;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(zone, mid * MIN) === before) lo = mid;
      else hi = mid;
    }
    found.push(hi * MIN);
  }
  return found;
}
const TRANSITIONS = new Map(ZONES.map((z) => [z, transitionsOf(z)]));

// ---- arbitraries -----------------------------------------------------------------------------
/**
 * Window boundaries (minutes of the local day) lean towards the wall-clock times on both sides of
 * the anchor instant (e.g. 02:00 and 03:00 for a US spring-forward anchor), the small hours and
 * late evening, where transitions happen.
 */
function boundaryArb(zone: string, anchor: number) {
  const minuteOfDay = (wall: number) => (((wall % DAY) + DAY) % DAY) / MIN;
  const sides = [minuteOfDay(wallOf(zone, anchor - MIN)) + 1, minuteOfDay(wallOf(zone, anchor))];
  return fc.oneof(
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 1440 }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 240 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1320, max: 1440 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1, 60, 61, 90, 120, 150, 165, 180, 225, 1380, 1440) },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.constantFrom(...sides), fc.integer({ min: -90, max: 90 })).map(([m, d]) => Math.min(1440, Math.max(0, m + d))),
    },
  );
}

function dayWindowsArb(boundary: fc.Arbitrary<number>) {
  return fc.uniqueArray(boundary, { maxLength: 6 }).map((bs) => {
    const sorted = [...bs].sort((a, b) => a - b);
    const windows: { startTime: string; endTime: string }[] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) windows.push({ startTime: hhmm(sorted[i]!), endTime: hhmm(sorted[i + 1]!) });
    return windows;
  });
}

const anyInstant = fc.integer({ min: SCAN_FROM / MIN, max: SCAN_TO / MIN }).map((m) => m * MIN);

interface Scenario { rules: ScheduleRules; from: number; to: number }

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .constantFrom(...ZONES)
  .chain((zone) => {
    const transitions = TRANSITIONS.get(zone)!;
    const anchor = transitions.length > 0
      ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...transitions) }, { weight: 1, arbitrary: anyInstant })
      : anyInstant;
    return anchor.map((a) => ({ zone, anchor: a }));
  })
  .chain(({ zone, anchor }) => {
    const dayWindows = dayWindowsArb(boundaryArb(zone, anchor));
    return fc.record({
      shift: fc.oneof(fc.integer({ min: -2 * 1440, max: 360 }).map((m) => m * MIN), fc.integer({ min: -2 * DAY, max: 360 * MIN })),
      length: fc.oneof(fc.integer({ min: 1, max: 3 * 1440 }).map((m) => m * MIN), fc.integer({ min: 1, max: 3 * DAY })),
      slotMinutes: fc.oneof(fc.integer({ min: 5, max: 60 }), fc.integer({ min: 5, max: 240 })),
      bufferMinutes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })),
      weekly: fc.array(dayWindows, { minLength: 7, maxLength: 7 }).map((days): WeeklyWindow[] =>
        days.flatMap((windows, i) => windows.map((w) => ({ weekday: i + 1, ...w }))),
      ),
      // Override dates are counted from the anchor's local date, which often gets one.
      overrideDays: fc.uniqueArray(fc.record({ dayOffset: fc.oneof(fc.constant(0), fc.integer({ min: -2, max: 3 })), windows: dayWindows }), {
        maxLength: 3,
        selector: (o) => o.dayOffset,
      }),
    }).map(({ shift, length, slotMinutes, bufferMinutes, weekly, overrideDays }) => {
      const from = anchor + shift;
      const anchorDay = Math.floor(wallOf(zone, anchor) / DAY) * DAY;
      const overrides: DateOverride[] = overrideDays.map((o) => ({ date: isoDate(anchorDay + o.dayOffset * DAY), windows: o.windows }));
      return { rules: { timeZone: zone, slotMinutes, bufferMinutes, minimumNoticeMinutes: 0, horizonDays: 365, weekly, overrides }, from, to: from + length };
    });
  });

function run(s: Scenario) {
  return generateScheduleSlots(s.rules, new Date(s.from), new Date(s.to)).map((x) => ({ start: x.startsAt.getTime(), end: x.endsAt.getTime() }));
}

/** The window of `windows` that contains [start, end], if any. */
function containing(windows: OracleWindow[], start: number, end: number): OracleWindow | undefined {
  return windows.find((w) => w.start <= start && end <= w.end);
}

const RUNS = { numRuns: 500 };
/** The exact-model property is the strongest, so it gets the most runs. */
const MODEL_RUNS = { numRuns: 1500 };

describe("generateScheduleSlots properties over 19 zones around DST transitions", () => {
  test("the scan found the transitions the ranges are drawn around", () => {
    for (const zone of ["America/New_York", "America/St_Johns", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Chatham"]) {
      expect(TRANSITIONS.get(zone as (typeof ZONES)[number])!.filter((t) => t >= Date.UTC(2026, 0, 1)).length).toBeGreaterThanOrEqual(6);
    }
    // Casablanca's future depends on the tz release: up to 2025 releases give Ramadan pairs every
    // year; 2026 releases (Node 24) give 2026's pair and then a last change to +00 that September.
    expect(TRANSITIONS.get("Africa/Casablanca")!.filter((t) => t >= Date.UTC(2026, 0, 1)).length).toBeGreaterThanOrEqual(3);
    expect(TRANSITIONS.get("Pacific/Apia")).toContain(Date.UTC(2011, 11, 30, 10, 0));
    expect(TRANSITIONS.get("Asia/Kolkata")).toEqual([]);
  });

  test("every slot lies within a window of its local date, resolved independently through Intl", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const windows = oracleWindows(s.rules, s.from, s.to);
        for (const slot of run(s)) expect(containing(windows, slot.start, slot.end)).toBeDefined();
      }),
      RUNS,
    );
  });

  test("slots match the independent model exactly: each window laid out from its start in steps of slot + buffer", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const step = (s.rules.slotMinutes + s.rules.bufferMinutes) * MIN;
        const model: { start: number; end: number }[] = [];
        for (const w of oracleWindows(s.rules, s.from, s.to)) {
          for (let t = w.start; t + s.rules.slotMinutes * MIN <= w.end; t += step) {
            if (t >= s.from && t < s.to) model.push({ start: t, end: t + s.rules.slotMinutes * MIN });
          }
        }
        expect(run(s)).toEqual(model.sort((a, b) => a.start - b.start));
      }),
      MODEL_RUNS,
    );
  });

  test("slots are sorted, never overlap, last exactly slotMinutes and start inside [from, to)", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const slots = run(s);
        slots.forEach((slot, i) => {
          expect(slot.end - slot.start).toBe(s.rules.slotMinutes * MIN);
          expect(slot.start).toBeGreaterThanOrEqual(s.from);
          expect(slot.start).toBeLessThan(s.to);
          if (i > 0) expect(slot.start).toBeGreaterThanOrEqual(slots[i - 1]!.end);
        });
      }),
      RUNS,
    );
  });

  test("consecutive slots of one window are at least bufferMinutes apart", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const windows = oracleWindows(s.rules, s.from, s.to);
        const slots = run(s);
        for (let i = 1; i < slots.length; i++) {
          if (containing(windows, slots[i]!.start, slots[i]!.end) === containing(windows, slots[i - 1]!.start, slots[i - 1]!.end)) {
            expect(slots[i]!.start - slots[i - 1]!.end).toBeGreaterThanOrEqual(s.rules.bufferMinutes * MIN);
          }
        }
      }),
      RUNS,
    );
  });

  test("every slot starts at a real local time: its wall-clock reading converts back to it (in a repeated hour, one of the two does)", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        // A sample keeps this fast; slots near a transition are the ones that matter, so they come first.
        const slots = run(s);
        const nearTransition = (t: number) => TRANSITIONS.get(s.rules.timeZone as (typeof ZONES)[number])!.some((x) => Math.abs(x - t) < DAY / 2);
        const sample = [...slots.filter((x) => nearTransition(x.start)), ...slots].slice(0, 60);
        for (const slot of sample) {
          // Converted with the Intl oracle: luxon's fromObject cannot be the judge here, because it
          // guesses from today's offset and gets historic times wrong (Pacific/Apia 2010-09-26 01:00
          // comes back as 02:00 while Apia is at +13 today).
          const readings = instantsOf(s.rules.timeZone, wallOf(s.rules.timeZone, slot.start));
          if (readings.length === 1) expect(readings[0]).toBe(slot.start);
          else expect(readings).toEqual(expect.arrayContaining([slot.start]));
          expect(readings.length).toBeLessThanOrEqual(2);
        }
      }),
      RUNS,
    );
  });

  test("an override fully replaces its date's weekly windows; a closed date has no slots", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const slots = run(s);
        const windows = oracleWindows(s.rules, s.from, s.to);
        for (const o of s.rules.overrides) {
          const dayStart = resolve(s.rules.timeZone, Date.parse(`${o.date}T00:00:00Z`));
          const dayEnd = resolve(s.rules.timeZone, Date.parse(`${o.date}T00:00:00Z`) + DAY);
          const own = windows.filter((w) => w.date === o.date);
          for (const slot of slots.filter((x) => x.start >= dayStart && x.start < dayEnd)) {
            expect(o.windows.length).toBeGreaterThan(0);
            expect(containing(own, slot.start, slot.end)).toBeDefined();
          }
        }
      }),
      RUNS,
    );
  });
});
