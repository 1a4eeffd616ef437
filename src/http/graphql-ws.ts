import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { Express } from "express";
import type { GraphQLSchema } from "graphql";
import proxyaddr from "proxy-addr";
import type { Core } from "../core";
import { isWebSocketOriginAllowed } from "../graphql/cors-policy";
import { attachGraphQLWs } from "../graphql/ws-server";
import type { ContextFactory } from "./graphql-context";

/**
 * graphql-ws on `/graphql` of `httpServer`, with the configured query and socket limits, the
 * CORS origin check, and client addresses resolved as Express resolves `req.ip`.
 *
 * @returns a `dispose()` that closes every socket
 */
export function attachWebSockets(core: Core, httpServer: Server, app: Express, schema: GraphQLSchema, makeContext: ContextFactory): { dispose(): Promise<void> } {
  const { config } = core;
  return attachGraphQLWs({
    httpServer,
    path: "/graphql",
    schema,
    services: core.services,
    clock: core.clock,
    log: core.log,
    maskInternal: config.isProduction,
    metrics: core.metrics,
    queryLimits: config.queryLimits,
    limits: config.wsLimits,
    pubSub: core.pubSub,
    // Express's compiled `trust proxy`, so a socket's address is the one `req.ip` gives on HTTP.
    clientAddress: (req) => proxyaddr(req, app.get("trust proxy fn") as Parameters<typeof proxyaddr>[1]),
    introspection: !config.isProduction,
    allowOrigin: (req) => isWebSocketOriginAllowed(config.corsOrigins, req),
    makeContext: (viewer, clientAddress) => makeContext(viewer, randomUUID(), clientAddress),
  });
}
