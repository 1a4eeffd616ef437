import { encodeEventCursor } from "../../src/db/event-cursor";
import { decodeEventCursor } from "../../src/services/page-input";

const b64 = (text: string) => Buffer.from(text).toString("base64url");

describe("event log cursors", () => {
  test("round-trip positions exactly, including transaction ids beyond 2^53", () => {
    for (const p of [
      { xactId: "0", id: 1 },
      { xactId: "745", id: 41 },
      { xactId: "18446744073709551615", id: Number.MAX_SAFE_INTEGER },
      { xactId: "9007199254740993", id: 42 },
    ]) {
      expect(decodeEventCursor(encodeEventCursor(p))).toEqual(p);
    }
  });

  test("refuse anything they did not make, with BAD_USER_INPUT naming the argument", () => {
    const made = encodeEventCursor({ xactId: "745", id: 41 });
    for (const forged of [
      "",
      "not a cursor",
      b64("e1:745"),
      b64("e1:745:0"),
      b64("e1:745:-1"),
      b64("e1:0745:41"),
      b64("e1:745:041"),
      b64("e2:745:41"),
      b64("e1:745:41:1"),
      b64(" e1:745:41"),
      b64("e1:18446744073709551616:1"),
      b64(`e1:1:${Number.MAX_SAFE_INTEGER + 2}`),
      `${made}A`,
    ]) {
      expect(() => decodeEventCursor(forged)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT", message: "after is not a valid cursor" }));
    }
  });
});
