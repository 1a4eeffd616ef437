import { isId } from "../domain/ids";
import { isSupportedInstant } from "../domain/instants";
import { DEFAULT_PAGE_SIZE, DEFAULT_SLOT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SLOT_PAGE_SIZE } from "../domain/page-limits";

/** A keyset position: the sort key (creation instant, UTC) and the id that breaks ties. */
export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

/** Encodes a position as an opaque base64url cursor. */
export function encodeCursor(p: KeysetPosition): string {
  return Buffer.from(JSON.stringify([p.createdAt.toISOString(), p.id])).toString("base64url");
}

/**
 * Reads a cursor produced by {@link encodeCursor}. A cursor is client input: anything that is
 * not exactly what encodeCursor writes (an ISO-8601 UTC instant as `toISOString` prints it,
 * within the supported years, and a UUID) is refused here, before it can reach SQL.
 * @returns the position, or undefined when the cursor is not one of ours (the caller reports
 *   that as bad input: see `decodeCursor` in src/services/page-input.ts)
 */
export function readCursor(cursor: string): KeysetPosition | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === "string" && typeof parsed[1] === "string") {
      const createdAt = new Date(parsed[0]);
      if (isSupportedInstant(createdAt) && createdAt.toISOString() === parsed[0] && isId(parsed[1])) return { createdAt, id: parsed[1].toLowerCase() };
    }
  } catch {
    // not base64url JSON: not one of ours
  }
  return undefined;
}

export { DEFAULT_PAGE_SIZE, DEFAULT_SLOT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SLOT_PAGE_SIZE };

/** One page of a keyset-paginated list. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
}

/** Trims a `limit + 1` fetch into a page. */
export function toPage<T>(rows: T[], limit: number): Page<T> {
  return { items: rows.slice(0, limit), hasNextPage: rows.length > limit };
}
