import { BadInputError } from "./errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Validates a public id (UUID, RFC 9562 textual form) and returns it lower-cased.
 * @throws BadInputError when malformed, naming `field`.
 */
export function parseId(value: string, field = "id"): string {
  if (!UUID.test(value)) throw new BadInputError(`${field} is not a valid id`, field);
  return value.toLowerCase();
}

/** True when `value` is a well-formed id. */
export function isId(value: string): boolean {
  return UUID.test(value);
}
