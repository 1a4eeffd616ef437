import type { Logger } from "pino";
import type { Config } from "./config";
import { startInProcessMail } from "./consumers/in-process-mail";
import type { Database } from "./db/client";
import type { Clock } from "./domain/clock";
import type { LivePublisher } from "./events/live-publisher";
import { startRelay, type RelayHandle } from "./events/relay-setup";
import type { Metrics } from "./observability/metrics";
import type { Services } from "./services";
import { startWorkers, stopWorkers } from "./workers";
import { WebhookDeliveryWorker } from "./workers/webhook-delivery.worker";

/**
 * Shutdown steps, run last-added first: each part is stopped before what it depends on
 * (workers before the relay, the relay before pub/sub and the database).
 */
export class CleanupStack {
  private readonly steps: (() => Promise<void>)[] = [];

  /** Adds a step that runs before every step added earlier. */
  add(step: () => Promise<void>): void {
    this.steps.unshift(step);
  }

  /** Runs every step in order; a step that rejects is passed to `onError` and the next still runs. */
  async run(onError: (err: unknown) => void): Promise<void> {
    for (const step of this.steps) await step().catch(onError);
  }

  /** {@link run} as a function that runs the steps once, however often it is called. */
  runOnce(onError: (err: unknown) => void): () => Promise<void> {
    let running: Promise<void> | undefined;
    return () => (running ??= this.run(onError));
  }
}

/** What the background work runs on. */
export interface BackgroundDeps {
  config: Config;
  database: Database;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  live: LivePublisher;
  services: Services;
}

/** The background parts a caller may look at (tests drive the relay and the webhook worker). */
export interface Background {
  relay?: RelayHandle;
  webhooks?: WebhookDeliveryWorker;
}

/**
 * Starts what the configuration asks for, in this order: the outbox relay (`OUTBOX_RELAY`), the
 * webhook delivery worker (`WEBHOOK_DELIVERY`), in-process mail (`SMTP_URL`) and the interval
 * workers (`WORKERS`). Each adds its stop to `cleanup`, so they stop in the reverse order.
 *
 * @throws SqsEmulatorPortError when the relay's embedded SQS emulator port is taken by something else
 */
export async function startBackground(d: BackgroundDeps, cleanup: CleanupStack): Promise<Background> {
  const relay = await startOutboxRelay(d, cleanup);
  const webhooks = startWebhookDelivery(d, cleanup);
  if (d.config.mail) {
    const mail = startInProcessMail({ ...d.config, mail: d.config.mail }, d.database.db, relay, d.log);
    // Before the relay (and its emulator) and the database close.
    if (mail) cleanup.add(() => mail.stop());
  }
  if (d.config.workers) {
    const workers = startWorkers(d.services, d.config, d.log.child({ component: "workers" }));
    cleanup.add(() => stopWorkers(workers));
  }
  return { relay, webhooks };
}

async function startOutboxRelay(d: BackgroundDeps, cleanup: CleanupStack): Promise<RelayHandle | undefined> {
  if (!d.config.outboxRelay) return undefined;
  if (d.config.isProduction && !d.config.sqsConfigured) {
    // DESIGN.md: nothing is embedded in production. Events wait in the outbox until SQS is configured.
    d.log.warn("no SQS configured in production: the outbox relay is off and events stay in the outbox");
    return undefined;
  }
  const relay = await startRelay(d.config, d.database.db, d.clock, d.log, { onSendFailure: (n) => d.metrics.relaySendFailed(n) });
  d.live.onCommit(() => relay.relay.wake());
  // Runs before pub/sub and the database close, so the last round can finish.
  cleanup.add(() => relay.stop());
  return relay;
}

function startWebhookDelivery(d: BackgroundDeps, cleanup: CleanupStack): WebhookDeliveryWorker | undefined {
  if (!d.config.webhooks.delivery) return undefined;
  if (d.config.webhooks.secretKey === undefined && d.config.isProduction) {
    d.log.warn("WEBHOOK_SECRET_KEY is not set: webhook signing secrets are stored unencrypted");
  }
  const worker = new WebhookDeliveryWorker(d.database.db, d.clock, d.config.webhooks, d.log.child({ component: "webhooks" }));
  worker.start();
  d.live.onCommit(() => worker.wake());
  cleanup.add(() => worker.stop());
  return worker;
}
