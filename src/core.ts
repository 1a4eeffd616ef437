import "reflect-metadata";
import type Redis from "ioredis";
import type { Logger } from "pino";
import type { Config } from "./config";
import { openDatabase, type Database } from "./db/client";
import { systemClock, type Clock } from "./domain/clock";
import { LivePublisher, type LivePublisherHooks } from "./events/live-publisher";
import { createInMemoryPubSub, type LivePubSub } from "./events/pubsub";
import { createRedisPubSub } from "./events/redis-pubsub";
import type { RelayHandle } from "./events/relay-setup";
import { createLogger } from "./logger";
import { Metrics } from "./observability/metrics";
import { createServices, type ServiceDeps, type Services } from "./services";
import { LoginThrottle } from "./services/login-throttle";
import { resolveSigningSecret } from "./services/signing-key";
import { TokenService } from "./services/token.service";
import type { WebhookDeliveryWorker } from "./workers/webhook-delivery.worker";
import { CleanupStack, startBackground } from "./core-background";
import { currentRequestId } from "./observability/request-context";

/**
 * Everything one Slotwise process runs apart from its HTTP layer: the database, pub/sub, the
 * live publisher, the services and the background work (outbox relay, webhook delivery,
 * in-process mail, interval workers). Built by {@link createCore}; the server puts HTTP on top
 * (src/http), tests and the benchmark use it as it is.
 */
export interface Core {
  config: Config;
  clock: Clock;
  log: Logger;
  database: Database;
  pubSub: LivePubSub;
  /** Which pub/sub this core runs on: Redis when `REDIS_URL` is set, in-process otherwise. */
  pubSubKind: "redis" | "memory";
  live: LivePublisher;
  /** This core's own Prometheus registry (several cores share one test process). */
  metrics: Metrics;
  tokens: TokenService;
  services: Services;
  /** The outbox relay, when this core runs one. */
  relay?: RelayHandle;
  /** The webhook delivery worker, when this core runs one. */
  webhooks?: WebhookDeliveryWorker;
  /**
   * Resolves when the database and (with Redis) pub/sub answer; rejects with the first failure.
   * Each check is bounded (the database's ping timeout, `REDIS_COMMAND_TIMEOUT_MS`).
   */
  ping(): Promise<void>;
  /**
   * Stops the workers, in-process mail, webhook delivery and the relay (each finishing the
   * round in hand), then closes pub/sub and the database, in that order. A step that fails is
   * logged and the next still runs. Safe to call more than once.
   */
  close(): Promise<void>;
}

export interface CoreOptions {
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: a logger at `config.logLevel`. */
  log?: Logger;
  /** Called with the text of every SQL statement sent (tests count statements with it). */
  onQuery?: (sql: string) => void;
  /**
   * The public origin links handed out start with (calendar feed URLs), read when a link is
   * made. Default: `PUBLIC_URL`, else `http://HOST:PORT` as configured.
   */
  publicOrigin?: () => string;
}

/**
 * Opens and migrates the database, connects pub/sub, wires the services, ensures the admin
 * account (`ADMIN_EMAIL`) and starts the background work the configuration asks for. On
 * failure everything already opened is closed again before the error is rethrown.
 *
 * @throws when the database or Redis cannot be reached, migrations fail, the admin account
 *   cannot be ensured, or the relay's SQS emulator port is taken (SqsEmulatorPortError)
 */
export async function createCore(config: Config, options: CoreOptions = {}): Promise<Core> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const database = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, poolMax: config.databasePoolMax, onQuery: options.onQuery });
  const cleanup = new CleanupStack();
  cleanup.add(() => database.close());
  try {
    await database.migrate();
    const bus = await openPubSub(config, log);
    cleanup.add(() => bus.pubSub.close());
    const signing = resolveSigningSecret(config);
    if (signing.source === "process") log.warn("JWT_SECRET is not set: using a random secret; tokens will not survive a restart");
    if (signing.source === "embedded-data-dir") log.info({ file: signing.file }, "JWT_SECRET is not set: signing with the key kept in the embedded data directory");
    const tokens = new TokenService(signing.secret, config.accessTokenTtlSeconds);
    const metrics = new Metrics({ db: database.db, log });
    let relay: RelayHandle | undefined;
    const { live, services } = assembleServices({
      db: database.db,
      clock,
      log,
      config,
      tokens,
      liveHooks: metrics.livePublisherHooks(),
      loginThrottle: new LoginThrottle(config.loginRateLimit, bus.redis),
      relayStatus: () => relay?.relay.status(),
      pubSub: bus.pubSub,
      // Feed tokens derive from the signing secret, so they last as long as sessions do.
      calendarFeed: { secret: signing.secret, baseUrl: options.publicOrigin ?? (() => config.publicUrl ?? `http://${config.host}:${config.port}`) },
    });
    await ensureAdmin(config, services, log);
    const background = await startBackground({ config, database, clock, log, metrics, live, services }, cleanup);
    relay = background.relay;
    return {
      config,
      clock,
      log,
      database,
      pubSub: bus.pubSub,
      pubSubKind: bus.redis ? "redis" : "memory",
      live,
      metrics,
      tokens,
      services,
      relay,
      webhooks: background.webhooks,
      ping: async () => {
        await database.ping();
        await bus.ping?.();
      },
      close: cleanup.runOnce((err) => log.warn({ err }, "cleanup failed")),
    };
  } catch (err) {
    await cleanup.run(() => undefined);
    throw err;
  }
}

/** What {@link assembleServices} wires: the services' dependencies, with the live publisher built here. */
export interface ServiceAssembly extends Omit<ServiceDeps, "live" | "pubSub"> {
  /** Where live changes go; event-log streams also wake from it. */
  pubSub: LivePubSub;
  /** Where failed live publishes are reported. */
  log: Logger;
  /** Observers of the live publisher (metrics). */
  liveHooks?: LivePublisherHooks;
}

/**
 * The one place the live publisher and the services are wired together. {@link createCore}
 * calls it with what it opened; service-level tests call it directly over a database (and an
 * in-process pub/sub) they share between worlds, since opening is per test file there.
 */
export function assembleServices(a: ServiceAssembly): { live: LivePublisher; services: Services } {
  const { log, liveHooks, ...deps } = a;
  const live = new LivePublisher(a.pubSub, log, liveHooks);
  return { live, services: createServices({ requestId: currentRequestId, ...deps, live }) };
}

/** Pub/sub for this process: Redis when `REDIS_URL` is set (shared by every instance), in-process otherwise. */
async function openPubSub(config: Config, log: Logger): Promise<{ pubSub: LivePubSub; redis?: Redis; ping?: () => Promise<void> }> {
  if (!config.redisUrl) return { pubSub: createInMemoryPubSub() };
  const redis = await createRedisPubSub(config.redisUrl, (err, connection) => log.warn({ err, connection }, "redis connection error"), config.redisCommandTimeoutMs);
  return { pubSub: redis.pubSub, redis: redis.client, ping: redis.ping };
}

/** Ensures the `ADMIN_EMAIL` account, when one is configured. */
async function ensureAdmin(config: Config, services: Services, log: Logger): Promise<void> {
  if (!config.admin) return;
  // Refuses (and so fails start-up) when a non-admin already has the email, unless promotion is allowed.
  const ensured = await services.auth.ensureAdmin(config.admin.email, config.admin.password, { promote: config.admin.promoteExisting });
  log.info({ email: config.admin.email, outcome: ensured.outcome, revokedSessions: ensured.revokedSessions }, "admin account ensured");
}
