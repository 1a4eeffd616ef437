import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "../config";
import type { Core } from "../core";
import { mountExplorer } from "../explorer/explorer";
import { buildAppSchema } from "../graphql/build-schema";
import { corsMiddleware } from "../graphql/cors-policy";
import { jsonErrorHandler } from "../graphql/http-errors";
import { startApollo, mountGraphQLHttp } from "./apollo";
import { createExpressApp } from "./express-app";
import { graphqlContextFactory } from "./graphql-context";
import { attachWebSockets } from "./graphql-ws";
import { mountCalendarFeed, mountProbes } from "./routes";

/** Slotwise's HTTP layer, listening. */
export interface HttpLayer {
  /** `http://host:port/graphql` */
  url: string;
  /** `ws://host:port/graphql` */
  wsUrl: string;
  /** `http://host:port`, as listening (the port chosen when `PORT=0`). */
  origin: string;
  port: number;
  /**
   * Stops accepting, lets in-flight requests finish, closes idle sockets and then every
   * graphql-ws socket (1001). Leaves `core` running: close it after.
   */
  stop(): Promise<void>;
}

/**
 * Serves `core` on `HOST:PORT`: GraphQL over HTTP (Apollo) and graphql-ws on `/graphql`,
 * `/healthz`, `/readyz`, `/metrics`, calendar feeds and, outside production, the explorer.
 *
 * @throws PortInUseError when `HOST:PORT` is taken; the error of `listen` otherwise
 */
export async function startHttp(core: Core): Promise<HttpLayer> {
  const { config, log } = core;
  const schema = await buildAppSchema(core.pubSub);
  const app = createExpressApp(config, log);
  const httpServer = createServer(app);
  const makeContext = graphqlContextFactory(core);
  const ws = attachWebSockets(core, httpServer, app, schema, makeContext);
  const apollo = await startApollo({ core, schema, httpServer, drainWebSockets: () => ws.dispose() });
  // Order matters: probes first; CORS before the explorer and Apollo, so a preflight (OPTIONS) is
  // answered; the explorer before Apollo, so a browser's GET /graphql gets the page.
  mountProbes(app, core);
  const cors = corsMiddleware(config.corsOrigins);
  if (cors) app.use("/graphql", cors);
  mountCalendarFeed(app, core);
  if (!config.isProduction) mountExplorer(app, { graphqlPath: "/graphql" });
  mountGraphQLHttp(app, apollo, core, makeContext);
  // Last: a body that is not JSON or is too large gets a GraphQL JSON error, not Express's HTML page.
  app.use(jsonErrorHandler({ maskInternal: config.isProduction, log }));

  const port = await listen(httpServer, config);
  const hostForUrl = config.host.includes(":") ? `[${config.host}]` : config.host;
  return {
    url: `http://${hostForUrl}:${port}/graphql`,
    wsUrl: `ws://${hostForUrl}:${port}/graphql`,
    origin: `http://${hostForUrl}:${port}`,
    port,
    stop: () => apollo.stop(),
  };
}

/** Thrown when `HOST:PORT` is taken; the message names the variable to change. */
export class PortInUseError extends Error {
  override name = "PortInUseError";
}

/** Listens on `HOST:PORT`; resolves the port listened on. */
async function listen(httpServer: Server, config: Pick<Config, "host" | "port">): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? portInUseError(config) : err));
    httpServer.listen(config.port, config.host, () => resolve());
  });
  return (httpServer.address() as AddressInfo).port;
}

function portInUseError(config: Pick<Config, "host" | "port">): PortInUseError {
  return new PortInUseError(
    `PORT=${config.port}: ${config.host}:${config.port} is already in use (another Slotwise instance?). Set PORT to a free port (0 picks any).`,
  );
}
