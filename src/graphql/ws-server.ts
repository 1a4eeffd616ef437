import type { IncomingMessage, Server } from "node:http";
import type { GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import { isDatabaseUnavailable } from "../db/pg-error";
import type { Clock } from "../domain/clock";
import type { Metrics } from "../observability/metrics";
import { withWsObservability } from "../observability/ws-metrics";
import type { Services, Viewer } from "../services";
import { bearerToken, type GraphQLContext } from "./context";
import { formatError } from "./error-format";
import { limitWsOperation, type QueryLimits } from "./query-limits";

/** graphql-ws close code for a refused or expired token (graphql-ws `CloseCode.Forbidden`). */
export const WS_FORBIDDEN = 4403;
/** Close code when the connection cannot be checked now (the database is away); retry later. */
export const WS_TRY_AGAIN_LATER = 1013;

export interface WsServerOptions {
  httpServer: Server;
  path: string;
  schema: GraphQLSchema;
  services: Services;
  clock: Clock;
  log: Logger;
  maskInternal: boolean;
  metrics: Metrics;
  /** Applied to every operation before it runs (graphql-ws bypasses Apollo's plugins). */
  queryLimits: QueryLimits;
  introspection: boolean;
  /** Whether an upgrade's `Origin` may open a socket; refused ones get HTTP 403 before the handshake. */
  allowOrigin?(req: IncomingMessage): boolean;
  makeContext(viewer: Viewer | null, clientAddress: string | undefined): GraphQLContext;
}

type Extra = { viewer?: Viewer | null; expiryTimer?: NodeJS.Timeout };

/**
 * GraphQL over WebSocket (graphql-ws protocol) on the HTTP server. Authentication happens
 * once, at connect, from `connectionParams.authorization`: a bad or revoked token closes the
 * socket with 4403; no token is an anonymous connection. When the token expires the socket
 * is closed with 4403 too, so a live subscription never outlives its credentials.
 *
 * @returns the WebSocket server and a `dispose()` that closes every socket
 */
export function attachGraphQLWs(o: WsServerOptions): { wsServer: WebSocketServer; dispose(): Promise<void> } {
  // ws defaults to 100 MiB messages, all parsed before any document check; match HTTP's 1 MB body limit.
  const wsServer = new WebSocketServer({
    server: o.httpServer,
    path: o.path,
    maxPayload: 1024 * 1024,
    verifyClient: ({ req }, done) => (!o.allowOrigin || o.allowOrigin(req) ? done(true) : done(false, 403, "Origin not allowed (CORS_ORIGINS)")),
  });
  const cleanup = useServer<{ authorization?: unknown }, Extra>(
    withWsObservability({
      schema: o.schema,
      onConnect: async (ctx) => {
        const token = bearerToken(ctx.connectionParams?.authorization);
        if (!token) {
          ctx.extra.viewer = null;
          return true;
        }
        try {
          const claims = await o.services.auth.authenticate(token);
          ctx.extra.viewer = { userId: claims.userId, role: claims.role };
          const socket = ctx.extra.socket;
          const timer = setTimeout(
            () => socket.close(WS_FORBIDDEN, "Forbidden: access token expired"),
            Math.max(0, claims.expiresAt.getTime() - o.clock.now().getTime()),
          );
          timer.unref();
          ctx.extra.expiryTimer = timer;
          return true;
        } catch (err) {
          // The token may be fine: say "try again later" (RFC 6455 registry: 1013), not 4403.
          if (isDatabaseUnavailable(err)) ctx.extra.socket.close(WS_TRY_AGAIN_LATER, "Try again later: the database is unavailable");
          return false;
        }
      },
      // Parses, validates and bounds depth, cost, aliases and size; returns errors instead of running.
      // No `contextValue` key in what it returns, so graphql-ws still calls `context` below.
      onSubscribe: limitWsOperation(o.schema, o.queryLimits, { introspection: o.introspection }),
      onClose: (ctx) => {
        if (ctx.extra.expiryTimer) clearTimeout(ctx.extra.expiryTimer);
      },
      context: (ctx) => o.makeContext(ctx.extra.viewer ?? null, ctx.extra.request.socket.remoteAddress),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e, { maskInternal: o.maskInternal, log: o.log })) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e, { maskInternal: o.maskInternal, log: o.log })),
    }, { metrics: o.metrics, log: o.log }),
    wsServer,
  );
  return { wsServer, dispose: () => Promise.resolve(cleanup.dispose()) };
}
