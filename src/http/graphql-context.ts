import type { Core } from "../core";
import { isDatabaseUnavailable } from "../db/pg-error";
import { DomainError, ServiceUnavailableError } from "../domain/errors";
import { bearerToken, type GraphQLContext } from "../graphql/context";
import { toGraphQLError } from "../graphql/error-format";
import type { Viewer } from "../services";

/** Builds the context of one operation (HTTP request or graphql-ws operation); a fresh set of DataLoaders each time. */
export type ContextFactory = (viewer: Viewer | null, requestId: string, clientAddress: string | undefined) => GraphQLContext;

/** The context factory over `core`'s services and pub/sub; each context logs with its request id. */
export function graphqlContextFactory(core: Pick<Core, "services" | "pubSub" | "log">): ContextFactory {
  return (viewer, requestId, clientAddress) => ({
    viewer,
    services: core.services,
    pubSub: core.pubSub,
    loaders: core.services.createLoaders(viewer),
    requestId,
    clientAddress,
    log: core.log.child({ requestId }),
  });
}

/**
 * The viewer an HTTP request's `Authorization` header names; null when it sends none.
 *
 * @throws GraphQLError 401 (`UNAUTHENTICATED`) for a malformed header or a bad, expired or
 *   revoked token — never silently anonymous; 503 (`SERVICE_UNAVAILABLE`) when the database
 *   cannot be reached to check the session
 */
export async function viewerOfRequest(core: Pick<Core, "services">, authorization: unknown): Promise<Viewer | null> {
  try {
    // A malformed header throws here: 401 like a bad token, never silently anonymous.
    const token = bearerToken(authorization);
    if (!token) return null;
    const claims = await core.services.auth.authenticate(token);
    return { userId: claims.userId, role: claims.role };
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw toGraphQLError(new ServiceUnavailableError());
    if (!(err instanceof DomainError)) throw err;
    throw toGraphQLError(err, 401);
  }
}
