import { BadInputError } from "../../src/domain/errors";
import { MAX_SLOTS_PER_CALL, splitWindow } from "../../src/services/provider.service";

const MINUTE = 60_000;
const at = (iso: string) => new Date(iso);

function badInput(fn: () => unknown): BadInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BadInputError) return err;
    throw err;
  }
  throw new Error("expected BadInputError, nothing was thrown");
}

describe("splitWindow: valid windows", () => {
  test("a 3-hour window in 30-minute slots gives 6 back-to-back slots covering it exactly", () => {
    const start = at("2030-06-01T09:00:00.000Z");
    const end = at("2030-06-01T12:00:00.000Z");
    const slots = splitWindow(start, end, 30);
    expect(slots).toHaveLength(6);
    expect(slots[0]!.startsAt).toEqual(start);
    expect(slots[slots.length - 1]!.endsAt).toEqual(end);
    for (const [i, s] of slots.entries()) {
      expect(s.endsAt.getTime() - s.startsAt.getTime()).toBe(30 * MINUTE);
      if (i > 0) expect(s.startsAt).toEqual(slots[i - 1]!.endsAt);
    }
    expect(slots.map((s) => s.startsAt.toISOString().slice(11, 16))).toEqual(["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]);
  });

  test("a slot as long as the window gives exactly one slot", () => {
    const start = at("2030-06-01T09:00:00.000Z");
    const end = at("2030-06-01T10:00:00.000Z");
    expect(splitWindow(start, end, 60)).toEqual([{ startsAt: start, endsAt: end }]);
  });

  test("windows may cross midnight UTC and use odd lengths", () => {
    const slots = splitWindow(at("2030-06-01T23:00:00.000Z"), at("2030-06-02T00:24:00.000Z"), 7);
    expect(slots).toHaveLength(12);
    expect(slots[8]!.startsAt.toISOString()).toBe("2030-06-01T23:56:00.000Z");
    expect(slots[8]!.endsAt.toISOString()).toBe("2030-06-02T00:03:00.000Z");
    expect(slots[11]!.endsAt.toISOString()).toBe("2030-06-02T00:24:00.000Z");
  });

  test("exactly the maximum number of one-minute slots is accepted", () => {
    const start = at("2030-06-01T00:00:00.000Z");
    const slots = splitWindow(start, new Date(start.getTime() + MAX_SLOTS_PER_CALL * MINUTE), 1);
    expect(slots).toHaveLength(MAX_SLOTS_PER_CALL);
    expect(slots[MAX_SLOTS_PER_CALL - 1]!.endsAt.getTime()).toBe(start.getTime() + MAX_SLOTS_PER_CALL * MINUTE);
  });

  test("returns fresh Date objects, not the caller's", () => {
    const start = at("2030-06-01T09:00:00.000Z");
    const end = at("2030-06-01T10:00:00.000Z");
    const [slot] = splitWindow(start, end, 60);
    slot!.startsAt.setTime(0);
    expect(start.toISOString()).toBe("2030-06-01T09:00:00.000Z");
  });
});

describe("splitWindow: bad input", () => {
  const start = at("2030-06-01T09:00:00.000Z");
  const end = at("2030-06-01T10:00:00.000Z");

  test.each([0, -15, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("slot length %p is refused on slotMinutes", (len) => {
    const err = badInput(() => splitWindow(start, end, len));
    expect(err.code).toBe("BAD_USER_INPUT");
    expect(err.details).toEqual({ field: "slotMinutes" });
  });

  test("a slot length that does not divide the window is refused", () => {
    const err = badInput(() => splitWindow(start, end, 25));
    expect(err.details).toEqual({ field: "slotMinutes" });
    expect(err.message).toMatch(/divide/);
  });

  test("a slot longer than one day is refused even when it divides the window", () => {
    const s = at("2030-06-01T00:00:00.000Z");
    expect(badInput(() => splitWindow(s, new Date(s.getTime() + 2 * 1441 * MINUTE), 1441)).details).toEqual({ field: "slotMinutes" });
    expect(splitWindow(s, new Date(s.getTime() + 2 * 1440 * MINUTE), 1440)).toHaveLength(2);
  });

  test("a slot longer than the window is refused", () => {
    expect(badInput(() => splitWindow(start, end, 90)).details).toEqual({ field: "slotMinutes" });
  });

  test("end before start is refused on endsAt", () => {
    expect(badInput(() => splitWindow(end, start, 30)).details).toEqual({ field: "endsAt" });
  });

  test("end equal to start (empty window) is refused on endsAt", () => {
    expect(badInput(() => splitWindow(start, new Date(start), 30)).details).toEqual({ field: "endsAt" });
  });

  test.each([
    ["start off the minute grid", at("2030-06-01T09:00:30.000Z"), at("2030-06-01T10:00:30.000Z")],
    ["end off the minute grid", at("2030-06-01T09:00:00.000Z"), at("2030-06-01T10:00:00.001Z")],
  ])("%s is refused", (_label, s, e) => {
    expect(badInput(() => splitWindow(s, e, 1)).message).toMatch(/whole minutes/);
  });

  test("one slot more than the maximum is refused", () => {
    const s = at("2030-06-01T00:00:00.000Z");
    const err = badInput(() => splitWindow(s, new Date(s.getTime() + (MAX_SLOTS_PER_CALL + 1) * MINUTE), 1));
    expect(err.message).toContain(String(MAX_SLOTS_PER_CALL));
  });

  test("an invalid Date is refused rather than producing slots", () => {
    expect(() => splitWindow(new Date("nope"), end, 30)).toThrow(BadInputError);
  });
});
