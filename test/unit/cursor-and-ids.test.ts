import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, encodeCursor, toPage } from "../../src/db/cursor";
import { decodeCursor, parsePageSize } from "../../src/services/page-input";
import { BadInputError } from "../../src/domain/errors";
import { isId, parseId } from "../../src/domain/ids";

function badInput(fn: () => unknown): BadInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BadInputError) return err;
    throw err;
  }
  throw new Error("expected BadInputError, nothing was thrown");
}

describe("keyset cursors", () => {
  test("encode then decode gives back the same instant (to the millisecond) and id", () => {
    const position = { createdAt: new Date("2030-01-02T03:04:05.678Z"), id: randomUUID() };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  test("round trip holds for any instant and uuid", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2200-01-01T00:00:00Z"), noInvalidDate: true }), fc.uuid(), (createdAt, id) => {
        expect(decodeCursor(encodeCursor({ createdAt, id }))).toEqual({ createdAt, id });
      }),
    );
  });

  const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

  test.each([
    ["empty string", ""],
    ["not base64 json", "!!!not-a-cursor!!!"],
    ["plain text", b64("hello")],
    ["an object", b64({ createdAt: "2030-01-01T00:00:00Z", id: randomUUID() })],
    ["one element", b64(["2030-01-01T00:00:00Z"])],
    ["three elements", b64(["2030-01-01T00:00:00Z", randomUUID(), "x"])],
    ["invalid date", b64(["not a date", randomUUID()])],
    ["id not a uuid", b64(["2030-01-01T00:00:00Z", "1; drop table bookings"])],
    ["numbers", b64([1, 2])],
  ])("garbage (%s) is BAD_USER_INPUT naming the field", (_label, cursor) => {
    const err = badInput(() => decodeCursor(cursor));
    expect(err.code).toBe("BAD_USER_INPUT");
    expect(err.details).toEqual({ field: "after" });
  });

  test("the error names a custom field", () => {
    expect(badInput(() => decodeCursor("zzz", "before")).details).toEqual({ field: "before" });
  });
});

describe("parsePageSize", () => {
  test("absent means the default", () => {
    expect(parsePageSize(undefined)).toBe(DEFAULT_PAGE_SIZE);
    expect(parsePageSize(null)).toBe(DEFAULT_PAGE_SIZE);
    expect(DEFAULT_PAGE_SIZE).toBe(20);
  });

  test("1 and the maximum are accepted as given", () => {
    expect(parsePageSize(1)).toBe(1);
    expect(parsePageSize(MAX_PAGE_SIZE)).toBe(MAX_PAGE_SIZE);
    expect(MAX_PAGE_SIZE).toBe(100);
  });

  test.each([0, -1, MAX_PAGE_SIZE + 1, 2.5, Number.NaN])("%p is BAD_USER_INPUT on first", (n) => {
    expect(badInput(() => parsePageSize(n)).details).toEqual({ field: "first" });
  });
});

describe("toPage", () => {
  test("a limit + 1 fetch means there is a next page, trimmed to the limit", () => {
    expect(toPage([1, 2, 3], 2)).toEqual({ items: [1, 2], hasNextPage: true });
    expect(toPage([1, 2], 2)).toEqual({ items: [1, 2], hasNextPage: false });
    expect(toPage([], 2)).toEqual({ items: [], hasNextPage: false });
  });
});

describe("ids", () => {
  test("a uuid is accepted and lower-cased", () => {
    const id = randomUUID();
    expect(isId(id)).toBe(true);
    expect(parseId(id)).toBe(id);
    expect(parseId(id.toUpperCase())).toBe(id);
  });

  test.each([
    "",
    "abc",
    "00000000-0000-0000-0000-00000000000",
    "00000000-0000-0000-0000-0000000000000",
    "g0000000-0000-0000-0000-000000000000",
    "000000000000-0000-0000-0000-00000000",
    " 00000000-0000-0000-0000-000000000000",
    "00000000-0000-0000-0000-000000000000\n",
    "{00000000-0000-0000-0000-000000000000}",
  ])("malformed id %p is BAD_USER_INPUT naming the field", (value) => {
    expect(isId(value)).toBe(false);
    const err = badInput(() => parseId(value, "slotId"));
    expect(err.details).toEqual({ field: "slotId" });
    expect(err.message).toContain("slotId");
  });

  test("the default field name is id", () => {
    expect(badInput(() => parseId("nope")).details).toEqual({ field: "id" });
  });
});
