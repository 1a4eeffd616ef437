import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type Express } from "express";
import type { GraphQLSchema } from "graphql";
import type { Core } from "../core";
import type { GraphQLContext } from "../graphql/context";
import { formatError, serviceUnavailablePlugin } from "../graphql/error-format";
import { createQueryLimitsPlugin } from "../graphql/query-limits";
import { apolloMetricsPlugin } from "../observability/apollo-metrics-plugin";
import { requestIdOf } from "../observability/http-request-id";
import { viewerOfRequest, type ContextFactory } from "./graphql-context";

export interface ApolloDeps {
  core: Pick<Core, "config" | "metrics" | "log">;
  schema: GraphQLSchema;
  httpServer: Server;
  /** Runs when Apollo drains, after the HTTP server stopped accepting: closes the graphql-ws sockets. */
  drainWebSockets(): Promise<void>;
}

/**
 * Apollo Server for GraphQL over HTTP, started. Its `stop()` drains the HTTP server (in-flight
 * requests finish, idle sockets close) and then the graphql-ws sockets.
 */
export async function startApollo(d: ApolloDeps): Promise<ApolloServer<GraphQLContext>> {
  const { config, metrics, log } = d.core;
  const apollo = new ApolloServer<GraphQLContext>({
    schema: d.schema,
    introspection: !config.isProduction,
    includeStacktraceInErrorResponses: !config.isProduction,
    // main.ts owns signal handling; Apollo's own handler would re-raise the signal mid-shutdown.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => formatError(formatted, error, { maskInternal: config.isProduction, log }),
    plugins: [
      createQueryLimitsPlugin(config.queryLimits),
      serviceUnavailablePlugin(),
      ApolloServerPluginDrainHttpServer({ httpServer: d.httpServer }),
      apolloMetricsPlugin(metrics, log),
      // Apollo's landing pages load from a CDN; outside production the bundled explorer replaces them.
      ApolloServerPluginLandingPageDisabled(),
      { async serverWillStart() { return { async drainServer() { await d.drainWebSockets(); } }; } },
    ],
  });
  await apollo.start();
  return apollo;
}

/**
 * `POST /graphql` (and GET for queries): a 1 MB JSON body limit, then Apollo, with the viewer
 * taken from the `Authorization` header and the request id from the request-id middleware.
 */
export function mountGraphQLHttp(app: Express, apollo: ApolloServer<GraphQLContext>, core: Pick<Core, "services">, makeContext: ContextFactory): void {
  app.use(
    "/graphql",
    express.json({ limit: "1mb" }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = requestIdOf(res) ?? randomUUID();
        const viewer = await viewerOfRequest(core, req.headers.authorization);
        return makeContext(viewer, requestId, req.ip ?? req.socket.remoteAddress);
      },
    }),
  );
}
