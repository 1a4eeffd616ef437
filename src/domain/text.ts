import { BadInputError } from "./errors";

/**
 * Refuses text PostgreSQL cannot store: a NUL character (U+0000) is not allowed in `text`
 * values (PostgreSQL docs, "Character Types"), and would otherwise surface as an internal error.
 *
 * @returns `value` unchanged
 * @throws BadInputError naming `field`
 */
export function storableText(value: string, field: string): string {
  if (value.includes("\u0000")) throw new BadInputError(`${field} must not contain NUL characters`, field);
  return value;
}
