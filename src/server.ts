import "reflect-metadata";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import proxyaddr from "proxy-addr";
import type { Logger } from "pino";
import type { Config } from "./config";
import { openDatabase, type Database } from "./db/client";
import { systemClock, type Clock } from "./domain/clock";
import { isDatabaseUnavailable } from "./db/pg-error";
import { DomainError, ServiceUnavailableError } from "./domain/errors";
import { LivePublisher } from "./events/live-publisher";
import { createInMemoryPubSub, type LivePubSub } from "./events/pubsub";
import { createRedisPubSub } from "./events/redis-pubsub";
import { startRelay, type RelayHandle } from "./events/relay-setup";
import { buildAppSchema } from "./graphql/build-schema";
import { bearerToken, type GraphQLContext } from "./graphql/context";
import { formatError, serviceUnavailablePlugin, toGraphQLError } from "./graphql/error-format";
import { corsMiddleware, isWebSocketOriginAllowed } from "./graphql/cors-policy";
import { jsonErrorHandler } from "./graphql/http-errors";
import { createQueryLimitsPlugin } from "./graphql/query-limits";
import { mountExplorer } from "./explorer/explorer";
import { startInProcessMail } from "./consumers/in-process-mail";
import { createLogger } from "./logger";
import { apolloMetricsPlugin } from "./observability/apollo-metrics-plugin";
import { httpAccessLog, requestIdMiddleware, requestIdOf } from "./observability/http-request-id";
import { Metrics } from "./observability/metrics";
import { createServices, type Services, type Viewer } from "./services";
import { CALENDAR_FEED_PATH } from "./services/calendar-feed.service";
import { LoginThrottle } from "./services/login-throttle";
import { resolveSigningSecret } from "./services/signing-key";
import { TokenService } from "./services/token.service";
import { attachGraphQLWs } from "./graphql/ws-server";
import type Redis from "ioredis";
import { startWorkers, stopWorkers } from "./workers";
import { WebhookDeliveryWorker } from "./workers/webhook-delivery.worker";

/** A started Slotwise instance. */
export interface RunningServer {
  /** `http://host:port/graphql` */
  url: string;
  /** `ws://host:port/graphql` */
  wsUrl: string;
  port: number;
  services: Services;
  database: Database;
  pubSub: LivePubSub;
  live: LivePublisher;
  /** The outbox relay, when this instance runs one. */
  relay?: RelayHandle;
  /** The webhook delivery worker, when this instance runs one. */
  webhooks?: WebhookDeliveryWorker;
  log: Logger;
  /** Stops accepting, closes sockets, then closes pub/sub and the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
}

/**
 * Starts one Slotwise process: migrations, pub/sub, GraphQL over HTTP and graphql-ws on
 * `/graphql`, `/healthz` and `/readyz`. Port 0 picks a free port (tests).
 *
 * @throws when the database or Redis cannot be reached, or migrations fail
 */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  const database = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, poolMax: config.databasePoolMax });
  const cleanup: (() => Promise<void>)[] = [() => database.close()];
  try {
    await database.migrate();
    let pubSub: LivePubSub;
    let pingRedis: (() => Promise<void>) | undefined;
    let redisClient: Redis | undefined;
    if (config.redisUrl) {
      const redis = await createRedisPubSub(config.redisUrl, (err, connection) => log.warn({ err, connection }, "redis connection error"), config.redisCommandTimeoutMs);
      pubSub = redis.pubSub;
      pingRedis = redis.ping;
      redisClient = redis.client;
    } else {
      pubSub = createInMemoryPubSub();
    }
    cleanup.unshift(() => pubSub.close());

    const signing = resolveSigningSecret(config);
    if (signing.source === "process") log.warn("JWT_SECRET is not set: using a random secret; tokens will not survive a restart");
    if (signing.source === "embedded-data-dir") log.info({ file: signing.file }, "JWT_SECRET is not set: signing with the key kept in the embedded data directory");
    const tokens = new TokenService(signing.secret, config.accessTokenTtlSeconds);
    // Known once the server listens (PORT=0 picks the port then).
    let origin = config.publicUrl ?? `http://${config.host}:${config.port}`;
    // Own registry per server (several servers share one test process).
    const metrics = new Metrics({ db: database.db, log });
    const live = new LivePublisher(pubSub, log, metrics.livePublisherHooks());
    let relay: RelayHandle | undefined;
    const loginThrottle = new LoginThrottle(config.loginRateLimit, redisClient);
    const services = createServices({
      db: database.db,
      clock,
      config,
      tokens,
      live,
      loginThrottle,
      relayStatus: () => relay?.relay.status(),
      pubSub,
      // Feed tokens derive from the signing secret, so they last as long as sessions do.
      calendarFeed: { secret: signing.secret, baseUrl: () => origin },
    });
    if (config.admin) {
      // Refuses (and so fails start-up) when a non-admin already has the email, unless promotion is allowed.
      const ensured = await services.auth.ensureAdmin(config.admin.email, config.admin.password, { promote: config.admin.promoteExisting });
      log.info({ email: config.admin.email, outcome: ensured.outcome, revokedSessions: ensured.revokedSessions }, "admin account ensured");
    }

    if (config.outboxRelay && config.isProduction && !config.sqsConfigured) {
      // DESIGN.md: nothing is embedded in production. Events wait in the outbox until SQS is configured.
      log.warn("no SQS configured in production: the outbox relay is off and events stay in the outbox");
    } else if (config.outboxRelay) {
      relay = await startRelay(config, database.db, clock, log, { onSendFailure: (n) => metrics.relaySendFailed(n) });
      const handle = relay;
      live.onCommit(() => handle.relay.wake());
      // Runs before pub/sub and database close (cleanup runs in order), so the last round can finish.
      cleanup.unshift(() => handle.stop());
    }

    let webhooks: WebhookDeliveryWorker | undefined;
    if (config.webhooks.delivery) {
      if (config.webhooks.secretKey === undefined && config.isProduction) {
        log.warn("WEBHOOK_SECRET_KEY is not set: webhook signing secrets are stored unencrypted");
      }
      const worker = new WebhookDeliveryWorker(database.db, clock, config.webhooks, log.child({ component: "webhooks" }));
      webhooks = worker;
      worker.start();
      live.onCommit(() => worker.wake());
      cleanup.unshift(() => worker.stop());
    }
    if (config.mail) {
      const mail = startInProcessMail({ ...config, mail: config.mail }, database.db, relay, log);
      // Before the relay (and its emulator) and the database close: cleanup runs in order.
      if (mail) cleanup.unshift(() => mail.stop());
    }

    if (config.workers) {
      const workers = startWorkers(services, config, log.child({ component: "workers" }));
      cleanup.unshift(() => stopWorkers(workers));
    }

    const schema = await buildAppSchema(pubSub);
    const app = express();
    if (config.trustProxy !== undefined) app.set("trust proxy", config.trustProxy);
    // First: every response gets x-request-id, and the rest of the request runs in its context.
    app.use(requestIdMiddleware());
    app.use(httpAccessLog(log));
    // During shutdown the drain ends idle keep-alive sockets for writing; a request that still
    // arrives on one can never be answered, so it must not run (a booking would commit unseen).
    app.use((req, _res, next) => {
      if (req.socket.writableEnded || req.socket.destroyed) {
        req.socket.destroy();
        return;
      }
      next();
    });
    const httpServer = createServer(app);
    const maskInternal = config.isProduction;

    const makeContext = (viewer: Viewer | null, requestId: string, clientAddress: string | undefined): GraphQLContext => ({
      viewer,
      services,
      pubSub,
      loaders: services.createLoaders(viewer),
      requestId,
      clientAddress,
      log: log.child({ requestId }),
    });

    const ws = attachGraphQLWs({
      httpServer,
      path: "/graphql",
      schema,
      services,
      clock,
      log,
      maskInternal,
      metrics,
      queryLimits: config.queryLimits,
      limits: config.wsLimits,
      pubSub,
      // Express's compiled `trust proxy`, so a socket's address is the one `req.ip` gives on HTTP.
      clientAddress: (req) => proxyaddr(req, app.get("trust proxy fn") as Parameters<typeof proxyaddr>[1]),
      introspection: !config.isProduction,
      allowOrigin: (req) => isWebSocketOriginAllowed(config.corsOrigins, req),
      makeContext: (viewer, clientAddress) => makeContext(viewer, randomUUID(), clientAddress),
    });

    const apollo = new ApolloServer<GraphQLContext>({
      schema,
      introspection: !config.isProduction,
      includeStacktraceInErrorResponses: !config.isProduction,
      // main.ts owns signal handling; Apollo's own handler would re-raise the signal mid-shutdown.
      stopOnTerminationSignals: false,
      formatError: (formatted, error) => formatError(formatted, error, { maskInternal, log }),
      plugins: [
        createQueryLimitsPlugin(config.queryLimits),
        serviceUnavailablePlugin(),
        ApolloServerPluginDrainHttpServer({ httpServer }),
        apolloMetricsPlugin(metrics, log),
        // Apollo's landing pages load from a CDN; outside production the bundled explorer replaces them.
        ApolloServerPluginLandingPageDisabled(),
        { async serverWillStart() { return { async drainServer() { await ws.dispose(); } }; } },
      ],
    });
    await apollo.start();

    app.get("/healthz", (_req, res) => {
      res.status(200).json({ status: "ok" });
    });
    app.get("/metrics", async (_req, res) => {
      try {
        const body = await metrics.render();
        res.status(200).set("content-type", metrics.contentType).send(body);
      } catch (err) {
        log.warn({ err }, "metrics scrape failed");
        res.status(500).end();
      }
    });
    app.get("/readyz", async (_req, res) => {
      try {
        await database.ping();
        if (pingRedis) await pingRedis();
        res.status(200).json({ status: "ready", database: database.kind, pubsub: pingRedis ? "redis" : "memory" });
      } catch (err) {
        log.warn({ err }, "readiness check failed");
        res.status(503).json({ status: "unavailable" });
      }
    });
    // Before the explorer and Apollo: a preflight (OPTIONS) is answered here.
    const cors = corsMiddleware(config.corsOrigins);
    if (cors) app.use("/graphql", cors);
    app.get(`${CALENDAR_FEED_PATH}/:token`, async (req, res) => {
      try {
        const ics = await services.calendarFeeds.render(req.params.token);
        // One answer for a wrong, rotated or malformed token: nothing to tell them apart.
        if (ics === undefined) return void res.status(404).type("text/plain").send("not found");
        res.status(200).set({ "content-type": "text/calendar; charset=utf-8", "cache-control": "private, max-age=300" }).send(ics);
      } catch (err) {
        log.warn({ err }, "calendar feed failed");
        res.status(500).end();
      }
    });
    // GraphiQL from bundled assets (no CDN); before Apollo so a browser's GET /graphql gets the page.
    if (!config.isProduction) mountExplorer(app, { graphqlPath: "/graphql" });
    app.use(
      "/graphql",
      express.json({ limit: "1mb" }),
      expressMiddleware(apollo, {
        context: async ({ req, res }) => {
          const requestId = requestIdOf(res) ?? randomUUID();
          let viewer: Viewer | null = null;
          try {
            // A malformed header throws here: 401 like a bad token, never silently anonymous.
            const token = bearerToken(req.headers.authorization);
            if (token) {
              const claims = await services.auth.authenticate(token);
              viewer = { userId: claims.userId, role: claims.role };
            }
          } catch (err) {
            if (isDatabaseUnavailable(err)) throw toGraphQLError(new ServiceUnavailableError());
            if (!(err instanceof DomainError)) throw err;
            throw toGraphQLError(err, 401);
          }
          return makeContext(viewer, requestId, req.ip ?? req.socket.remoteAddress);
        },
      }),
    );

    // Last: a body that is not JSON or is too large gets a GraphQL JSON error, not Express's HTML page.
    app.use(jsonErrorHandler({ maskInternal, log }));

    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? portInUseError(config) : err));
      httpServer.listen(config.port, config.host, () => resolve());
    });
    const port = (httpServer.address() as AddressInfo).port;
    const hostForUrl = config.host.includes(":") ? `[${config.host}]` : config.host;
    if (!config.publicUrl) origin = `http://${hostForUrl}:${port}`;
    let stopping: Promise<void> | undefined;
    return {
      url: `http://${hostForUrl}:${port}/graphql`,
      wsUrl: `ws://${hostForUrl}:${port}/graphql`,
      port,
      services,
      database,
      pubSub,
      live,
      relay,
      webhooks,
      log,
      stop: () => {
        stopping ??= (async () => {
          await apollo.stop();
          for (const fn of cleanup) await fn().catch((err) => log.warn({ err }, "cleanup failed"));
        })();
        return stopping;
      },
    };
  } catch (err) {
    for (const fn of cleanup) await fn().catch(() => undefined);
    throw err;
  }
}

/** Thrown when `HOST:PORT` is taken; the message names the variable to change. */
export class PortInUseError extends Error {
  override name = "PortInUseError";
}

function portInUseError(config: Config): PortInUseError {
  return new PortInUseError(
    `PORT=${config.port}: ${config.host}:${config.port} is already in use (another Slotwise instance?). Set PORT to a free port (0 picks any).`,
  );
}
