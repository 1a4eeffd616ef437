import { UnauthenticatedError } from "../domain/errors";

export type { GraphQLContext } from "../resolvers/context";

/**
 * Reads the bearer token of an Authorization value (RFC 6750 §2.1: `Bearer <token>`, the scheme
 * case-insensitive per RFC 9110 §11.1).
 *
 * @returns the token, or undefined when no credentials were sent (absent, null, or blank)
 * @throws UnauthenticatedError when credentials were sent but are not a bearer token (`Basic …`,
 *   a bare token, a non-string value): a malformed header is refused like an invalid token,
 *   never taken as anonymous
 */
export function bearerToken(header: unknown): string | undefined {
  if (header === undefined || header === null) return undefined;
  if (typeof header !== "string") throw new UnauthenticatedError("Authorization must be a string of the form 'Bearer <token>'");
  if (header.trim() === "") return undefined;
  const m = /^\s*Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  if (!m) throw new UnauthenticatedError("Authorization must be of the form 'Bearer <token>'");
  return m[1];
}
