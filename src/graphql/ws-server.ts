import type { IncomingMessage, Server } from "node:http";
import { GraphQLError, type ExecutionArgs, type GraphQLSchema } from "graphql";
import type { Context, SubscribePayload } from "graphql-ws";
import { useServer, type Extra as WsTransport } from "graphql-ws/use/ws";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import { isDatabaseUnavailable } from "../db/pg-error";
import type { Clock } from "../domain/clock";
import type { LivePubSub } from "../events/pubsub";
import type { Metrics } from "../observability/metrics";
import { withWsObservability } from "../observability/ws-metrics";
import type { Services, Viewer } from "../services";
import { bearerToken, type GraphQLContext } from "./context";
import { formatError } from "./error-format";
import { limitWsOperation, type QueryLimits } from "./query-limits";
import { ConnectionCounter, WS_FORBIDDEN, WsSessionRegistry } from "./ws-sessions";

export { WS_FORBIDDEN } from "./ws-sessions";
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
  /** Sockets per client address, operations in flight per socket. */
  limits: { maxConnectionsPerClient: number; maxOperationsPerConnection: number };
  /** Where session revocations arrive from every instance. */
  pubSub: LivePubSub;
  /** The client's address for an upgrade request (honouring `TRUST_PROXY`, like `req.ip`). */
  clientAddress(req: IncomingMessage): string | undefined;
  introspection: boolean;
  /** Whether an upgrade's `Origin` may open a socket; refused ones get HTTP 403 before the handshake. */
  allowOrigin?(req: IncomingMessage): boolean;
  makeContext(viewer: Viewer | null, clientAddress: string | undefined): GraphQLContext;
}

/** What this server keeps on each socket, next to graphql-ws's own `socket` and `request`. */
type Extra = {
  viewer?: Viewer | null;
  /** The access token the socket authenticated with; re-checked before every operation. */
  token?: string;
  clientAddress?: string;
  expiryTimer?: NodeJS.Timeout;
  forget?: () => void;
};

type ConnectionParams = { authorization?: unknown };
type SocketContext = Context<ConnectionParams, WsTransport & Partial<Extra>>;

/**
 * GraphQL over WebSocket (graphql-ws protocol) on the HTTP server. Authentication happens at
 * connect, from `connectionParams.authorization`: a bad, revoked or malformed token closes the
 * socket with 4403; no token is an anonymous connection. The socket closes with 4403 too when
 * its token expires, when its session is revoked (logout, refresh-token replay, an admin command;
 * heard over the pub/sub from any instance), and when an operation finds the session no longer
 * valid, so nothing outlives its credentials.
 *
 * Bounds: at most `maxConnectionsPerClient` open sockets per client address (more are refused at
 * the handshake with HTTP 429) and `maxOperationsPerConnection` operations in flight per socket
 * (more are answered `RATE_LIMITED`, reason `TOO_MANY_OPERATIONS`).
 *
 * @returns the WebSocket server and a `dispose()` that closes every socket
 */
export function attachGraphQLWs(o: WsServerOptions): { wsServer: WebSocketServer; dispose(): Promise<void> } {
  const sessions = new WsSessionRegistry(o.log);
  sessions.follow(o.pubSub);
  const wsServer = createWebSocketServer(o);
  const limit = limitWsOperation(o.schema, o.queryLimits, { introspection: o.introspection });
  const format = (e: GraphQLError) => formatError(e.toJSON(), e, { maskInternal: o.maskInternal, log: o.log });
  const cleanup = useServer<ConnectionParams, Extra>(
    withWsObservability(
      {
        schema: o.schema,
        onConnect: (ctx) => authenticateSocket(o, sessions, ctx),
        onSubscribe: (ctx, id, payload) => admitOperation(o, limit, ctx, id, payload),
        onClose: (ctx) => {
          if (ctx.extra.expiryTimer) clearTimeout(ctx.extra.expiryTimer);
          ctx.extra.forget?.();
        },
        context: (ctx) => o.makeContext(ctx.extra.viewer ?? null, ctx.extra.clientAddress),
        onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: result.errors.map(format) } : undefined),
        onError: (_ctx, _id, _payload, errors) => errors.map(format),
      },
      { metrics: o.metrics, log: o.log },
    ),
    wsServer,
  );
  return {
    wsServer,
    dispose: async () => {
      await sessions.stop();
      await cleanup.dispose();
    },
  };
}

/**
 * The WebSocket server on `o.path`, refusing at the handshake an upgrade whose `Origin` is not
 * allowed (HTTP 403) or whose client address already has `maxConnectionsPerClient` sockets (429).
 */
function createWebSocketServer(o: WsServerOptions): WebSocketServer {
  const perClient = new ConnectionCounter(o.limits.maxConnectionsPerClient);
  return new WebSocketServer({
    server: o.httpServer,
    path: o.path,
    // ws defaults to 100 MiB messages, all parsed before any document check; match HTTP's 1 MB body limit.
    maxPayload: 1024 * 1024,
    // Counted from the handshake until the TCP socket closes, whether or not the upgrade completes.
    verifyClient: (info, done) => {
      if (o.allowOrigin && !o.allowOrigin(info.req)) {
        done(false, 403, "Origin not allowed (CORS_ORIGINS)");
        return;
      }
      const address = o.clientAddress(info.req) ?? "unknown";
      if (!perClient.tryOpen(address)) {
        done(false, 429, `Too many connections from this address (at most ${o.limits.maxConnectionsPerClient})`, { "retry-after": "10" });
        return;
      }
      info.req.socket.once("close", () => perClient.close(address));
      done(true);
    },
  });
}

/**
 * graphql-ws `onConnect`: no token is an anonymous connection; a valid one sets the viewer, ties
 * the socket to its session (closed on revocation) and closes it with 4403 when the token
 * expires. Resolves false (graphql-ws closes with 4403) for a bad token; with the database
 * away the socket is closed with 1013 ("try again later") instead.
 */
async function authenticateSocket(o: WsServerOptions, sessions: WsSessionRegistry, ctx: SocketContext): Promise<boolean> {
  ctx.extra.clientAddress = o.clientAddress(ctx.extra.request);
  try {
    const token = bearerToken(ctx.connectionParams?.authorization);
    if (!token) {
      ctx.extra.viewer = null;
      return true;
    }
    const claims = await o.services.auth.authenticate(token);
    const socket = ctx.extra.socket;
    ctx.extra.viewer = { userId: claims.userId, role: claims.role };
    ctx.extra.token = token;
    if (claims.sessionId) ctx.extra.forget = sessions.register(socket, claims.sessionId, claims.userId);
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
}

/**
 * graphql-ws `onSubscribe`: refuses an operation beyond `maxOperationsPerConnection`, re-checks
 * the socket's session (closing it with 4403 when it has ended), then applies the query limits.
 */
async function admitOperation(
  o: WsServerOptions,
  limit: ReturnType<typeof limitWsOperation>,
  ctx: SocketContext,
  id: string,
  payload: SubscribePayload,
): Promise<ExecutionArgs | readonly GraphQLError[]> {
  // graphql-ws has already entered this operation in `ctx.subscriptions`.
  if (Object.keys(ctx.subscriptions).length > o.limits.maxOperationsPerConnection) {
    return [
      new GraphQLError(`At most ${o.limits.maxOperationsPerConnection} operations may run at once on one connection; complete one first`, {
        extensions: { code: "RATE_LIMITED", reason: "TOO_MANY_OPERATIONS" },
      }),
    ];
  }
  if (ctx.extra.token) {
    // The session may have ended since connect (a missed revocation message, another
    // process): re-check it, and take the role as it is now.
    try {
      const claims = await o.services.auth.authenticate(ctx.extra.token);
      ctx.extra.viewer = { userId: claims.userId, role: claims.role };
    } catch {
      ctx.extra.socket.close(WS_FORBIDDEN, "Forbidden: the session has ended");
      return [new GraphQLError("The session has ended; sign in again", { extensions: { code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" } })];
    }
  }
  // Parses, validates and bounds depth, cost, aliases and size; returns errors instead of running.
  // No `contextValue` key in what it returns, so graphql-ws still calls `context` in attachGraphQLWs.
  return limit(ctx, id, payload);
}
