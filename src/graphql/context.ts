import type { Logger } from "pino";
import type { LivePubSub } from "../events/pubsub";
import type { Loaders, Services, Viewer } from "../services";

/** Per-operation GraphQL context, on HTTP and on graphql-ws alike. */
export interface GraphQLContext {
  /** The caller; null when no (valid) token was sent. */
  viewer: Viewer | null;
  services: Services;
  pubSub: LivePubSub;
  /** DataLoaders of this request; replaced for every subscription event. */
  loaders: Loaders;
  requestId: string;
  /** The caller's network address (for throttling); undefined when unknown. */
  clientAddress?: string;
  log: Logger;
}

/** Reads `Bearer <token>` from an Authorization value; undefined when absent or not a bearer token. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== "string") return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
