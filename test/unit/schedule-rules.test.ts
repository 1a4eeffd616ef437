import { Settings } from "luxon";
import { BadInputError } from "../../src/domain/errors";
import { generateScheduleSlots, parseScheduleRules, type ScheduleRules, type TimeWindow } from "../../src/domain/schedule";

// Every expected instant below is worked out by hand from the zone's published rules; the
// offsets used are written next to each case.

function rules(overrides: Partial<ScheduleRules> = {}): ScheduleRules {
  return {
    timeZone: "Europe/Berlin",
    slotMinutes: 60,
    bufferMinutes: 0,
    minimumNoticeMinutes: 0,
    horizonDays: 30,
    weekly: [],
    overrides: [],
    ...overrides,
  };
}

function badInput(fn: () => unknown): BadInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BadInputError) return err;
    throw err;
  }
  throw new Error("expected BadInputError, nothing was thrown");
}

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
/** `n` non-overlapping 10-minute windows, one every 20 minutes from midnight. */
const shortWindows = (n: number) => Array.from({ length: n }, (_, i) => ({ startTime: hhmm(20 * i), endTime: hhmm(20 * i + 10) }));
/** `n` consecutive calendar dates starting at `first`. */
const dates = (first: string, n: number) =>
  Array.from({ length: n }, (_, i) => new Date(Date.parse(`${first}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));

/** Slots of one local date that has a single override window, as UTC "MM-DDTHH:MM/HH:MM" (start date-time / end time). */
function daySlots(timeZone: string, date: string, window: TimeWindow, slotMinutes = 60, bufferMinutes = 0): string[] {
  const day = Date.parse(`${date}T00:00:00Z`);
  const r = rules({ timeZone, slotMinutes, bufferMinutes, overrides: [{ date, windows: [window] }] });
  return generateScheduleSlots(r, new Date(day - 2 * 86_400_000), new Date(day + 3 * 86_400_000)).map(
    (s) => `${s.startsAt.toISOString().slice(5, 16)}/${s.endsAt.toISOString().slice(11, 16)}`,
  );
}


describe("parseScheduleRules: accepts and normalises", () => {
  test("sorts weekly windows by weekday then start, overrides by date, and drops unknown properties", () => {
    const input = rules({
      weekly: [
        { weekday: 3, startTime: "14:00", endTime: "16:00" },
        { weekday: 1, startTime: "13:00", endTime: "24:00" },
        { weekday: 1, startTime: "09:00", endTime: "12:00", extra: true } as never,
      ],
      overrides: [
        { date: "2027-06-10", windows: [{ startTime: "15:00", endTime: "16:00" }, { startTime: "08:00", endTime: "15:00" }] },
        { date: "2027-06-09", windows: [] },
      ],
    });
    const snapshot = JSON.stringify(input);
    const parsed = parseScheduleRules(input);
    expect(parsed.weekly).toEqual([
      { weekday: 1, startTime: "09:00", endTime: "12:00" },
      { weekday: 1, startTime: "13:00", endTime: "24:00" },
      { weekday: 3, startTime: "14:00", endTime: "16:00" },
    ]);
    expect(parsed.overrides).toEqual([
      { date: "2027-06-09", windows: [] },
      { date: "2027-06-10", windows: [{ startTime: "08:00", endTime: "15:00" }, { startTime: "15:00", endTime: "16:00" }] },
    ]);
    expect(JSON.stringify(input)).toBe(snapshot);
  });

  test("accepts the limits: touching windows, 00:00-24:00, 5/1440-minute slots, leap day, 50 weekly, 366 overrides, 50 windows in one and 732 in all", () => {
    const allDay = [{ weekday: 7, startTime: "00:00", endTime: "24:00" }];
    expect(() => parseScheduleRules(rules({ weekly: allDay, slotMinutes: 1440 }))).not.toThrow();
    expect(() => parseScheduleRules(rules({ slotMinutes: 5, bufferMinutes: 1440, minimumNoticeMinutes: 365 * 24 * 60, horizonDays: 365 }))).not.toThrow();
    expect(() => parseScheduleRules(rules({ slotMinutes: 5, bufferMinutes: 0, minimumNoticeMinutes: 0, horizonDays: 1 }))).not.toThrow();
    const touching = [{ weekday: 2, startTime: "09:00", endTime: "12:00" }, { weekday: 2, startTime: "12:00", endTime: "17:00" }];
    expect(parseScheduleRules(rules({ weekly: touching })).weekly).toEqual(touching);
    expect(parseScheduleRules(rules({ weekly: shortWindows(50).map((w) => ({ weekday: 3, ...w })) })).weekly).toHaveLength(50);
    // 50 windows on the first date, two on each of the next 341, none after: 732 in all.
    const leapYear = dates("2028-01-01", 366).map((date, i) => ({ date, windows: shortWindows(i === 0 ? 50 : i <= 341 ? 2 : 0) }));
    expect(leapYear[59]!.date).toBe("2028-02-29");
    expect(parseScheduleRules(rules({ overrides: leapYear })).overrides).toHaveLength(366);
    expect(parseScheduleRules(rules({ timeZone: "Asia/Kathmandu" })).timeZone).toBe("Asia/Kathmandu");
  });
});

describe("parseScheduleRules: rejects with BadInputError naming the field", () => {
  const w = (startTime: string, endTime: string, weekday = 1) => ({ weekday, startTime, endTime });
  const cases: [string, Partial<ScheduleRules>, string][] = [
    ["hour without leading zero", { weekly: [w("9:00", "12:00")] }, "weekly[0].startTime"],
    ["hour 25", { weekly: [w("09:00", "25:00")] }, "weekly[0].endTime"],
    ["minute 60", { weekly: [w("09:60", "12:00")] }, "weekly[0].startTime"],
    ["seconds", { weekly: [w("09:00:00", "12:00")] }, "weekly[0].startTime"],
    ["not a time", { weekly: [w("noon", "13:00")] }, "weekly[0].startTime"],
    ["24:00 as a start", { weekly: [w("24:00", "24:00")] }, "weekly[0].startTime"],
    ["24:01 as an end", { weekly: [w("23:00", "24:01")] }, "weekly[0].endTime"],
    ["end equal to start", { weekly: [w("09:00", "09:00")] }, "weekly[0].endTime"],
    ["end before start", { weekly: [w("17:00", "09:00")] }, "weekly[0].endTime"],
    ["weekday 0", { weekly: [w("09:00", "12:00", 0)] }, "weekly[0].weekday"],
    ["weekday 8", { weekly: [w("09:00", "12:00", 8)] }, "weekly[0].weekday"],
    ["fractional weekday", { weekly: [w("09:00", "12:00", 1.5)] }, "weekly[0].weekday"],
    ["overlapping weekly windows", { weekly: [w("09:00", "12:00"), w("13:00", "14:00"), w("11:59", "12:30")] }, "weekly[2]"],
    ["identical weekly windows", { weekly: [w("09:00", "12:00", 4), w("09:00", "12:00", 4)] }, "weekly[1]"],
    ["overlapping override windows", { overrides: [{ date: "2027-06-09", windows: [{ startTime: "10:00", endTime: "11:00" }, { startTime: "09:00", endTime: "10:30" }] }] }, "overrides[0].windows[0]"],
    ["override time 24:00 as start", { overrides: [{ date: "2027-06-09", windows: [{ startTime: "24:00", endTime: "24:00" }] }] }, "overrides[0].windows[0].startTime"],
    ["override end before start", { overrides: [{ date: "2027-06-09", windows: [{ startTime: "12:00", endTime: "11:00" }] }] }, "overrides[0].windows[0].endTime"],
    ["non-leap 29 February", { overrides: [{ date: "2027-02-29", windows: [] }] }, "overrides[0].date"],
    ["month 13", { overrides: [{ date: "2027-13-01", windows: [] }] }, "overrides[0].date"],
    ["31 April", { overrides: [{ date: "2027-04-31", windows: [] }] }, "overrides[0].date"],
    ["date without zero padding", { overrides: [{ date: "2027-6-1", windows: [] }] }, "overrides[0].date"],
    ["date with a time", { overrides: [{ date: "2027-06-01T00:00", windows: [] }] }, "overrides[0].date"],
    ["duplicate override date", { overrides: [{ date: "2027-06-01", windows: [] }, { date: "2027-06-01", windows: [] }] }, "overrides[1].date"],
    ["slotMinutes 4", { slotMinutes: 4 }, "slotMinutes"],
    ["slotMinutes 1441", { slotMinutes: 1441 }, "slotMinutes"],
    ["fractional slotMinutes", { slotMinutes: 30.5 }, "slotMinutes"],
    ["negative bufferMinutes", { bufferMinutes: -1 }, "bufferMinutes"],
    ["bufferMinutes 1441", { bufferMinutes: 1441 }, "bufferMinutes"],
    ["fractional bufferMinutes", { bufferMinutes: 2.5 }, "bufferMinutes"],
    ["negative minimumNoticeMinutes", { minimumNoticeMinutes: -1 }, "minimumNoticeMinutes"],
    ["minimumNoticeMinutes over a year", { minimumNoticeMinutes: 365 * 24 * 60 + 1 }, "minimumNoticeMinutes"],
    ["horizonDays 0", { horizonDays: 0 }, "horizonDays"],
    ["horizonDays 366", { horizonDays: 366 }, "horizonDays"],
    ["fractional horizonDays", { horizonDays: 1.5 }, "horizonDays"],
    ["unknown zone", { timeZone: "Mars/Olympus_Mons" }, "timeZone"],
    ["an offset instead of a zone", { timeZone: "+05:00" }, "timeZone"],
    ["empty zone", { timeZone: "" }, "timeZone"],
    ["51 weekly windows", { weekly: shortWindows(51).map((w) => ({ weekday: 2, ...w })) }, "weekly"],
    ["367 overrides", { overrides: dates("2027-01-01", 367).map((date) => ({ date, windows: [] })) }, "overrides"],
    ["51 windows in one override", { overrides: [{ date: "2027-06-01", windows: shortWindows(51) }] }, "overrides[0].windows"],
    ["733 windows across the overrides", { overrides: dates("2027-01-01", 15).map((date, i) => ({ date, windows: shortWindows(i < 14 ? 50 : 33) })) }, "overrides[14].windows"],
  ];

  test.each(cases)("%s", (_name, patch, field) => {
    const err = badInput(() => parseScheduleRules(rules(patch)));
    expect(err.code).toBe("BAD_USER_INPUT");
    expect(err.details).toEqual({ field });
    expect(err.message.length).toBeGreaterThan(10);
  });
});

describe("generateScheduleSlots: ordinary days", () => {
  test("a normal summer week in Europe/Berlin (CEST, UTC+2): Mon-Fri 09-12 plus Wednesday 14-16", () => {
    const weekly = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, startTime: "09:00", endTime: "12:00" }));
    weekly.push({ weekday: 3, startTime: "14:00", endTime: "16:00" });
    // Monday 2027-06-07 00:00 CEST = 2027-06-06T22:00Z; one week later, exclusive.
    const slots = generateScheduleSlots(rules({ weekly }), new Date("2027-06-06T22:00:00Z"), new Date("2027-06-13T22:00:00Z"));
    const starts = slots.map((s) => s.startsAt.toISOString().slice(0, 16));
    expect(starts).toEqual([
      "2027-06-07T07:00", "2027-06-07T08:00", "2027-06-07T09:00",
      "2027-06-08T07:00", "2027-06-08T08:00", "2027-06-08T09:00",
      "2027-06-09T07:00", "2027-06-09T08:00", "2027-06-09T09:00", "2027-06-09T12:00", "2027-06-09T13:00",
      "2027-06-10T07:00", "2027-06-10T08:00", "2027-06-10T09:00",
      "2027-06-11T07:00", "2027-06-11T08:00", "2027-06-11T09:00",
    ]);
    for (const s of slots) expect(s.endsAt.getTime() - s.startsAt.getTime()).toBe(3_600_000);
  });

  test("24:00 ends the window at the next local midnight (Berlin CEST: 22:00-24:00 = 20:00Z-22:00Z)", () => {
    expect(daySlots("Europe/Berlin", "2027-06-07", { startTime: "22:00", endTime: "24:00" })).toEqual(["06-07T20:00/21:00", "06-07T21:00/22:00"]);
  });

  test("buffers: 50-minute slots with a 10-minute buffer and 45-minute slots with a 20-minute buffer in 09-12", () => {
    expect(daySlots("Europe/Berlin", "2027-06-07", { startTime: "09:00", endTime: "12:00" }, 50, 10)).toEqual(["06-07T07:00/07:50", "06-07T08:00/08:50", "06-07T09:00/09:50"]);
    // 07:00, 08:05, 09:10 (ends 09:55Z); the next would start 10:15Z, past the 10:00Z end.
    expect(daySlots("Europe/Berlin", "2027-06-07", { startTime: "09:00", endTime: "12:00" }, 45, 20)).toEqual(["06-07T07:00/07:45", "06-07T08:05/08:50", "06-07T09:10/09:55"]);
  });

  test("only slots starting in [from, to) are returned; a slot already running at `from` is left out", () => {
    const r = rules({ weekly: [{ weekday: 1, startTime: "09:00", endTime: "12:00" }] });
    const slots = generateScheduleSlots(r, new Date("2027-06-07T07:30:00Z"), new Date("2027-06-07T09:00:00Z"));
    expect(slots.map((s) => s.startsAt.toISOString())).toEqual(["2027-06-07T08:00:00.000Z"]);
    expect(generateScheduleSlots(r, new Date("2027-06-07T09:00:00Z"), new Date("2027-06-07T09:00:00Z"))).toEqual([]);
    expect(generateScheduleSlots(r, new Date("2027-06-07T10:00:00Z"), new Date("2027-06-07T07:00:00Z"))).toEqual([]);
  });

  test("a year of 5-minute slots around the clock in New York covers every real minute once: 8760 h x 12 = 105120", () => {
    // 2027 is not a leap year; the 23-hour and 25-hour transition days cancel out.
    const daily = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, startTime: "00:00", endTime: "24:00" }));
    const slots = generateScheduleSlots(
      rules({ timeZone: "America/New_York", slotMinutes: 5, weekly: daily }),
      new Date("2027-01-01T05:00:00Z"), // 00:00 EST
      new Date("2028-01-01T05:00:00Z"),
    );
    expect(slots).toHaveLength(105_120);
    expect(slots.every((s, i) => i === 0 || s.startsAt.getTime() === slots[i - 1]!.endsAt.getTime())).toBe(true);
  });

  test("overrides: one closes a weekday, another replaces its windows; other days keep the weekly windows", () => {
    const weekly = [1, 2, 3].map((weekday) => ({ weekday, startTime: "09:00", endTime: "11:00" }));
    const r = rules({
      weekly,
      overrides: [
        { date: "2027-06-08", windows: [] },
        { date: "2027-06-09", windows: [{ startTime: "13:00", endTime: "14:00" }, { startTime: "07:00", endTime: "08:00" }] },
      ],
    });
    const starts = generateScheduleSlots(r, new Date("2027-06-06T22:00:00Z"), new Date("2027-06-09T22:00:00Z")).map((s) => s.startsAt.toISOString().slice(0, 16));
    expect(starts).toEqual(["2027-06-07T07:00", "2027-06-07T08:00", "2027-06-09T05:00", "2027-06-09T11:00"]);
  });
});

describe("generateScheduleSlots: America/New_York transitions", () => {
  // Spring forward 2027-03-14: 02:00 EST (UTC-5) jumps to 03:00 EDT (UTC-4) at 07:00Z; 02:00-02:59 does not exist.
  test("spring forward: 00:00-04:00 has 3 real hours (00:00 EST = 05:00Z to 04:00 EDT = 08:00Z)", () => {
    expect(daySlots("America/New_York", "2027-03-14", { startTime: "00:00", endTime: "04:00" })).toEqual(["03-14T05:00/06:00", "03-14T06:00/07:00", "03-14T07:00/08:00"]);
  });

  test("spring forward: 01:00-03:00 is one real hour (01:00 EST = 06:00Z to 03:00 EDT = 07:00Z)", () => {
    expect(daySlots("America/New_York", "2027-03-14", { startTime: "01:00", endTime: "03:00" })).toEqual(["03-14T06:00/07:00"]);
    expect(daySlots("America/New_York", "2027-03-14", { startTime: "01:00", endTime: "03:00" }, 30)).toEqual(["03-14T06:00/06:30", "03-14T06:30/07:00"]);
  });

  test("spring forward: 02:00-04:00 starts at 03:00 EDT = 07:00Z, nothing at 02:xx", () => {
    expect(daySlots("America/New_York", "2027-03-14", { startTime: "02:00", endTime: "04:00" })).toEqual(["03-14T07:00/08:00"]);
  });

  test("spring forward: boundaries inside the gap snap to the transition (07:00Z), not 'gap length later'", () => {
    // 02:30-04:00 is open from 03:00 EDT (07:00Z); luxon's plain answer would be 03:30 EDT.
    expect(daySlots("America/New_York", "2027-03-14", { startTime: "02:30", endTime: "04:00" }, 30)).toEqual(["03-14T07:00/07:30", "03-14T07:30/08:00"]);
    // 01:00-02:30 closes when the clock jumps (07:00Z), so no slot runs to 03:30 EDT.
    expect(daySlots("America/New_York", "2027-03-14", { startTime: "01:00", endTime: "02:30" }, 30)).toEqual(["03-14T06:00/06:30", "03-14T06:30/07:00"]);
    expect(daySlots("America/New_York", "2027-03-14", { startTime: "02:00", endTime: "02:59" }, 5)).toEqual([]);
  });

  test("spring forward: 09:00-17:00 is 09:00-17:00 EDT (13:00Z-21:00Z), and 09:00 EST (14:00Z) the day before", () => {
    const day = daySlots("America/New_York", "2027-03-14", { startTime: "09:00", endTime: "17:00" });
    expect(day).toHaveLength(8);
    expect(day[0]).toBe("03-14T13:00/14:00");
    expect(day[7]).toBe("03-14T20:00/21:00");
    expect(daySlots("America/New_York", "2027-03-13", { startTime: "09:00", endTime: "17:00" })[0]).toBe("03-13T14:00/15:00");
  });

  // Fall back 2027-11-07: 02:00 EDT (UTC-4) returns to 01:00 EST (UTC-5) at 06:00Z; 01:00-01:59 happens twice
  // (05:00Z-06:00Z as EDT, 06:00Z-07:00Z as EST). An ambiguous boundary takes its earlier occurrence.
  test("fall back: 00:00-04:00 has 5 real hours (00:00 EDT = 04:00Z to 04:00 EST = 09:00Z), no duplicates", () => {
    expect(daySlots("America/New_York", "2027-11-07", { startTime: "00:00", endTime: "04:00" })).toEqual(
      ["11-07T04:00/05:00", "11-07T05:00/06:00", "11-07T06:00/07:00", "11-07T07:00/08:00", "11-07T08:00/09:00"],
    );
  });

  test("fall back: 01:00-03:00 starts at the first 01:00 (EDT, 05:00Z) and ends 03:00 EST (08:00Z)", () => {
    expect(daySlots("America/New_York", "2027-11-07", { startTime: "01:00", endTime: "03:00" })).toEqual(["11-07T05:00/06:00", "11-07T06:00/07:00", "11-07T07:00/08:00"]);
  });

  test("fall back: 02:00-04:00 is 02:00 EST (07:00Z) to 04:00 EST (09:00Z); 00:00-01:30 ends at the first 01:30 (05:30Z)", () => {
    expect(daySlots("America/New_York", "2027-11-07", { startTime: "02:00", endTime: "04:00" })).toEqual(["11-07T07:00/08:00", "11-07T08:00/09:00"]);
    expect(daySlots("America/New_York", "2027-11-07", { startTime: "00:00", endTime: "01:30" }, 30)).toEqual(["11-07T04:00/04:30", "11-07T04:30/05:00", "11-07T05:00/05:30"]);
  });

  test("fall back: 09:00-17:00 is 09:00-17:00 EST (14:00Z-22:00Z)", () => {
    const day = daySlots("America/New_York", "2027-11-07", { startTime: "09:00", endTime: "17:00" });
    expect(day).toHaveLength(8);
    expect(day[0]).toBe("11-07T14:00/15:00");
    expect(day[7]).toBe("11-07T21:00/22:00");
  });

  test("ambiguous boundaries do not depend on the date the code runs (luxon's own guess does)", () => {
    const original = Settings.now;
    try {
      const results = ["2027-07-01T12:00:00Z", "2027-01-15T12:00:00Z"].map((now) => {
        Settings.now = () => Date.parse(now);
        return daySlots("America/New_York", "2027-11-07", { startTime: "01:30", endTime: "03:00" }, 30);
      });
      // 01:30 EDT = 05:30Z to 03:00 EST = 08:00Z.
      expect(results[0]![0]).toBe("11-07T05:30/06:00");
      expect(results[0]).toHaveLength(5);
      expect(results[1]).toEqual(results[0]);
    } finally {
      Settings.now = original;
    }
  });

  test("45-minute slots across both transitions in 00:00-04:00", () => {
    // Spring: 05:00Z-08:00Z = 180 min -> 4 slots.
    expect(daySlots("America/New_York", "2027-03-14", { startTime: "00:00", endTime: "04:00" }, 45)).toEqual(
      ["03-14T05:00/05:45", "03-14T05:45/06:30", "03-14T06:30/07:15", "03-14T07:15/08:00"],
    );
    // Fall: 04:00Z-09:00Z = 300 min -> 6 slots, the last ending 08:30Z.
    const fall = daySlots("America/New_York", "2027-11-07", { startTime: "00:00", endTime: "04:00" }, 45);
    expect(fall.map((s) => s.slice(6, 11))).toEqual(["04:00", "04:45", "05:30", "06:15", "07:00", "07:45"]);
    expect(fall[5]).toBe("11-07T07:45/08:30");
  });
});

describe("generateScheduleSlots: Europe and Lord Howe transitions", () => {
  test("Europe/London 2027-03-28 (01:00 GMT -> 02:00 BST at 01:00Z): 00:30-03:00 is 00:30Z-02:00Z", () => {
    expect(daySlots("Europe/London", "2027-03-28", { startTime: "00:30", endTime: "03:00" }, 30)).toEqual(["03-28T00:30/01:00", "03-28T01:00/01:30", "03-28T01:30/02:00"]);
    expect(daySlots("Europe/London", "2027-03-28", { startTime: "01:00", endTime: "02:00" }, 5)).toEqual([]);
  });

  test("Europe/London 2027-10-31 (02:00 BST -> 01:00 GMT at 01:00Z): 00:00-03:00 is 23:00Z-03:00Z", () => {
    expect(daySlots("Europe/London", "2027-10-31", { startTime: "00:00", endTime: "03:00" })).toEqual(
      ["10-30T23:00/00:00", "10-31T00:00/01:00", "10-31T01:00/02:00", "10-31T02:00/03:00"],
    );
  });

  test("Europe/Berlin 2027-03-28 (02:00 CET -> 03:00 CEST at 01:00Z): 01:00-04:00 is 00:00Z-02:00Z; 02:15-03:15 is 01:00Z-01:15Z", () => {
    expect(daySlots("Europe/Berlin", "2027-03-28", { startTime: "01:00", endTime: "04:00" })).toEqual(["03-28T00:00/01:00", "03-28T01:00/02:00"]);
    expect(daySlots("Europe/Berlin", "2027-03-28", { startTime: "02:15", endTime: "03:15" }, 15)).toEqual(["03-28T01:00/01:15"]);
  });

  test("Europe/Berlin 2027-10-31 (03:00 CEST -> 02:00 CET at 01:00Z): 02:00-04:00 is 02:00 CEST = 00:00Z to 04:00 CET = 03:00Z", () => {
    expect(daySlots("Europe/Berlin", "2027-10-31", { startTime: "02:00", endTime: "04:00" })).toEqual(["10-31T00:00/01:00", "10-31T01:00/02:00", "10-31T02:00/03:00"]);
  });

  test("Australia/Lord_Howe 2027-10-03 (02:00 +10:30 -> 02:30 +11:00 at 15:30Z on 10-02): a 30-minute gap", () => {
    // 01:00 +10:30 = 14:30Z to 04:00 +11:00 = 17:00Z: 150 real minutes.
    expect(daySlots("Australia/Lord_Howe", "2027-10-03", { startTime: "01:00", endTime: "04:00" }, 30)).toEqual(
      ["10-02T14:30/15:00", "10-02T15:00/15:30", "10-02T15:30/16:00", "10-02T16:00/16:30", "10-02T16:30/17:00"],
    );
    // 02:00 does not exist: the window opens at 02:30 +11:00 = 15:30Z and ends 03:00 +11:00 = 16:00Z.
    expect(daySlots("Australia/Lord_Howe", "2027-10-03", { startTime: "02:00", endTime: "03:00" }, 30)).toEqual(["10-02T15:30/16:00"]);
  });

  test("Australia/Lord_Howe 2027-04-04 (02:00 +11:00 -> 01:30 +10:30 at 15:00Z on 04-03): 01:00-03:00 is 14:00Z-16:30Z", () => {
    expect(daySlots("Australia/Lord_Howe", "2027-04-04", { startTime: "01:00", endTime: "03:00" }, 30)).toEqual(
      ["04-03T14:00/14:30", "04-03T14:30/15:00", "04-03T15:00/15:30", "04-03T15:30/16:00", "04-03T16:00/16:30"],
    );
  });

  test("Pacific/Apia: a historic gap at midnight and the skipped day 2011-12-30, although Apia is +13 today", () => {
    // 2010-09-26 00:00 -11:00 -> 01:00 -10:00 at 11:00Z: 00:00-02:00 is 01:00-02:00 -10:00 = 11:00Z-12:00Z.
    expect(daySlots("Pacific/Apia", "2010-09-26", { startTime: "00:00", endTime: "02:00" })).toEqual(["09-26T11:00/12:00"]);
    // 2011-12-29 23:59 -10:00 -> 2011-12-31 00:00 +14:00: Thursday 09:00 -10 = 19:00Z, Friday does not exist,
    // Saturday 09:00 +14 = 19:00Z on the 30th.
    const daily = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, startTime: "09:00", endTime: "10:00" }));
    const slots = generateScheduleSlots(rules({ timeZone: "Pacific/Apia", weekly: daily }), new Date("2011-12-29T12:00:00Z"), new Date("2011-12-31T12:00:00Z"));
    expect(slots.map((s) => s.startsAt.toISOString())).toEqual(["2011-12-29T19:00:00.000Z", "2011-12-30T19:00:00.000Z"]);
  });
});
