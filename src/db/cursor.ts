import { BadInputError } from "../domain/errors";
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
 * Decodes a cursor produced by {@link encodeCursor}. A cursor is client input: anything that
 * is not exactly what encodeCursor writes (an ISO-8601 UTC instant as `toISOString` prints it,
 * within the supported years, and a UUID) is refused here, before it can reach SQL.
 * @throws BadInputError when the cursor is not one of ours.
 */
export function decodeCursor(cursor: string, field = "after"): KeysetPosition {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === "string" && typeof parsed[1] === "string") {
      const createdAt = new Date(parsed[0]);
      if (isSupportedInstant(createdAt) && createdAt.toISOString() === parsed[0] && isId(parsed[1])) return { createdAt, id: parsed[1].toLowerCase() };
    }
  } catch {
    // fall through to the error below
  }
  throw new BadInputError(`${field} is not a valid cursor`, field);
}

export { DEFAULT_PAGE_SIZE, DEFAULT_SLOT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SLOT_PAGE_SIZE };

/**
 * Validates a page size (`first`): 1..100, default 20.
 * @throws BadInputError outside that range.
 */
export function parsePageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new BadInputError(`first must be between 1 and ${MAX_PAGE_SIZE}`, "first");
  }
  return first;
}

/**
 * Validates how many slots `availableSlots` returns (`first`): 1..1000, default 200.
 * @throws BadInputError outside that range.
 */
export function parseSlotPageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_SLOT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_SLOT_PAGE_SIZE) {
    throw new BadInputError(`first must be between 1 and ${MAX_SLOT_PAGE_SIZE}`, "first");
  }
  return first;
}

/** One page of a keyset-paginated list. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
}

/** Trims a `limit + 1` fetch into a page. */
export function toPage<T>(rows: T[], limit: number): Page<T> {
  return { items: rows.slice(0, limit), hasNextPage: rows.length > limit };
}
