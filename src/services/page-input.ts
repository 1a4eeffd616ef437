import { DEFAULT_PAGE_SIZE, DEFAULT_SLOT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SLOT_PAGE_SIZE, readCursor, type KeysetPosition } from "../db/cursor";
import { readEventCursor, type EventLogPosition } from "../db/event-cursor";
import { BadInputError } from "../domain/errors";

/**
 * Checks of the paging arguments clients send (`first`, `after`): input validation, so it
 * happens here, above the data layer, which only reads what it is given.
 */

/**
 * Decodes a list cursor (see `encodeCursor` in src/db/cursor.ts).
 * @param field - the argument's name, for the error
 * @throws BadInputError when the cursor is not one of ours
 */
export function decodeCursor(cursor: string, field = "after"): KeysetPosition {
  const position = readCursor(cursor);
  if (!position) throw new BadInputError(`${field} is not a valid cursor`, field);
  return position;
}

/**
 * Decodes an event-log cursor (see `encodeEventCursor` in src/db/event-cursor.ts).
 * @param field - the argument's name, for the error
 * @throws BadInputError when the cursor is not one of ours
 */
export function decodeEventCursor(cursor: string, field = "after"): EventLogPosition {
  const position = readEventCursor(cursor);
  if (!position) throw new BadInputError(`${field} is not a valid cursor`, field);
  return position;
}

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
