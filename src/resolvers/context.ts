import type { Logger } from "pino";
import type { LivePubSub } from "../events/pubsub";
import type { Loaders, Services, Viewer } from "../services";

/**
 * Per-operation GraphQL context, on HTTP and on graphql-ws alike. Declared beside the resolvers
 * that read it (the transport layer in `src/graphql` builds it), so resolvers import nothing above
 * them. Resolvers get their services by injection (`resolver-container.ts`); `services` is here for
 * that container and for the `subscribe` options of subscriptions, which run without a resolver
 * instance.
 */
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
