/** Request ids (`x-request-id`): what a client may send and events may carry. */

/** A request id: ≤ 128 chars of `[A-Za-z0-9._-]`. Bounded and plain, so a caller cannot break a header or a log line. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** Whether `value` is acceptable as a caller-chosen request id (≤ 128 chars of `[A-Za-z0-9._-]`). */
export function isValidRequestId(value: unknown): value is string {
  return typeof value === "string" && REQUEST_ID_PATTERN.test(value);
}
