import { BadInputError } from "./errors";

/** A UTF-16 surrogate not part of a pair: not a Unicode scalar value, so not text at all. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * True when `value` is well-formed Unicode: no lone UTF-16 surrogate (ES2024
 * `String.prototype.isWellFormed`). GraphQL string literals cannot hold one (graphql-js refuses
 * `"\ud800"` as an invalid escape), but JSON variables can, and PostgreSQL refuses them in
 * `text` (invalid UTF-8) and in `jsonb` ("unsupported Unicode escape sequence").
 */
export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/**
 * Refuses text PostgreSQL cannot store: a NUL character (U+0000) is not allowed in `text`
 * values (PostgreSQL docs, "Character Types"), nor a lone UTF-16 surrogate (see
 * {@link isWellFormedText}); either would otherwise surface as an internal error.
 *
 * @returns `value` unchanged
 * @throws BadInputError naming `field`
 */
export function storableText(value: string, field: string): string {
  if (value.includes("\u0000")) throw new BadInputError(`${field} must not contain NUL characters`, field);
  if (!isWellFormedText(value)) throw new BadInputError(`${field} must be well-formed Unicode (it holds a lone UTF-16 surrogate)`, field);
  return value;
}
