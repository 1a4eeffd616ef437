import "reflect-metadata";
import type { Logger } from "pino";
import type { Config } from "./config";
import { createCore } from "./core";
import type { Database } from "./db/client";
import type { Clock } from "./domain/clock";
import type { LivePublisher } from "./events/live-publisher";
import type { LivePubSub } from "./events/pubsub";
import type { RelayHandle } from "./events/relay-setup";
import { startHttp } from "./http/http-server";
import { createLogger } from "./logger";
import type { Services } from "./services";
import type { WebhookDeliveryWorker } from "./workers/webhook-delivery.worker";

export { PortInUseError } from "./http/http-server";

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
 * Starts one Slotwise process: the core (src/core.ts: migrations, pub/sub, services, relay and
 * workers), then GraphQL over HTTP and graphql-ws on `/graphql`, `/healthz` and `/readyz`
 * (src/http). Port 0 picks a free port (tests).
 *
 * @throws when the database or Redis cannot be reached, or migrations fail; PortInUseError
 *   when `HOST:PORT` is taken
 */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.logger ?? createLogger(config.logLevel);
  // Known once the server listens (PORT=0 picks the port then).
  let origin = config.publicUrl ?? `http://${config.host}:${config.port}`;
  const core = await createCore(config, { clock: opts.clock, log, publicOrigin: () => origin });
  let http;
  try {
    http = await startHttp(core);
  } catch (err) {
    await core.close();
    throw err;
  }
  if (!config.publicUrl) origin = http.origin;
  const { services, database, pubSub, live, relay, webhooks } = core;
  let stopping: Promise<void> | undefined;
  return {
    url: http.url,
    wsUrl: http.wsUrl,
    port: http.port,
    services,
    database,
    pubSub,
    live,
    relay,
    webhooks,
    log,
    // HTTP first (requests in flight finish, sockets close), then the core's background work, pub/sub and database.
    stop: () => (stopping ??= http.stop().then(() => core.close())),
  };
}
