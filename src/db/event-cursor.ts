/**
 * A position in the event log: the order key of an outbox row, (xactId, id). `xactId` is the
 * row's `xact_id` (xid8) as decimal text; `id` its outbox id.
 */
export interface EventLogPosition {
  xactId: string;
  id: number;
}

const VERSION = "e1";
// xid8 is unsigned 64-bit; PostgreSQL would refuse a larger literal, so it is refused here first.
const MAX_XID8 = 2n ** 64n - 1n;
const SHAPE = /^e1:(0|[1-9][0-9]{0,19}):([1-9][0-9]{0,15})$/;

/** Encodes a position as an opaque, ordered base64url cursor. */
export function encodeEventCursor(p: EventLogPosition): string {
  return Buffer.from(`${VERSION}:${p.xactId}:${p.id}`).toString("base64url");
}

/**
 * Reads a cursor made by {@link encodeEventCursor}. Only the exact text it produces is
 * accepted (canonical digits, in range), so a hand-made or altered cursor is refused.
 * @returns the position, or undefined when the cursor is not one of ours (the caller reports
 *   that as bad input: see `decodeEventCursor` in src/services/page-input.ts)
 */
export function readEventCursor(cursor: string): EventLogPosition | undefined {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const m = SHAPE.exec(text);
  if (m && Buffer.from(text).toString("base64url") === cursor) {
    const id = Number(m[2]);
    if (BigInt(m[1]!) <= MAX_XID8 && Number.isSafeInteger(id)) return { xactId: m[1]!, id };
  }
  return undefined;
}
