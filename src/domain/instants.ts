/**
 * The instants Slotwise accepts anywhere (arguments, cursors): years 0001 to 9999 UTC, the
 * four-digit years of ISO 8601 / RFC 3339 `date-time`. PostgreSQL's `timestamptz` has no year 0
 * (0000-01-01 is "out of range") and JavaScript Dates reach ±275760, so outside this range an
 * input would fail in the database instead of being refused as bad input.
 */
export const EARLIEST_INSTANT = new Date("0001-01-01T00:00:00.000Z");
export const LATEST_INSTANT = new Date("9999-12-31T23:59:59.999Z");

/** True for a valid Date within {@link EARLIEST_INSTANT} .. {@link LATEST_INSTANT}. */
export function isSupportedInstant(value: Date): boolean {
  const t = value.getTime();
  return !Number.isNaN(t) && t >= EARLIEST_INSTANT.getTime() && t <= LATEST_INSTANT.getTime();
}
