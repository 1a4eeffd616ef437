import type { Logger } from "pino";
import type { Config } from "../config";
import type { Db } from "../db/client";
import type { Clock } from "../domain/clock";
import { OutboxRelay, type OutboxRelayOptions } from "./outbox-relay";
import { EMULATOR_CREDENTIALS, createSqsClient } from "./queue-setup";
import { startSqsEmulator, type SqsEmulator } from "./sqs-emulator";
import type { QueueRoutes } from "./sqs-routing";

/** A started relay with the SQS resources it owns. */
export interface RelayHandle {
  relay: OutboxRelay;
  routes: QueueRoutes;
  /** Set when no SQS was configured and the embedded emulator was started. */
  emulator?: SqsEmulator;
  /** Stops the relay after its current round, then closes the client and the emulator. */
  stop(): Promise<void>;
}

/**
 * Starts the outbox relay against the configured SQS, or, with nothing configured, against an
 * embedded emulator on 127.0.0.1 (`SQS_EMULATOR_PORT`) with the queues created.
 */
export async function startRelay(
  config: Config,
  db: Db,
  clock: Clock,
  log: Logger,
  hooks: Pick<OutboxRelayOptions, "onSendFailure"> = {},
): Promise<RelayHandle> {
  let emulator: SqsEmulator | undefined;
  let routes: QueueRoutes = config.queues;
  let endpoint = config.aws.sqsEndpoint;
  if (!config.sqsConfigured) {
    emulator = await startSqsEmulator(config.sqsEmulatorPort, config.aws.region);
    routes = emulator.queueUrls;
    endpoint = emulator.endpoint;
    log.info({ endpoint, queues: emulator.queueUrls }, `embedded SQS emulator on ${endpoint}`);
  }
  const sqs = createSqsClient({ region: config.aws.region, endpoint, credentials: emulator ? EMULATOR_CREDENTIALS : undefined });
  const relay = new OutboxRelay(db, sqs, routes, clock, log.child({ component: "outbox-relay" }), { pollIntervalMs: config.outboxRelayPollMs, ...hooks });
  relay.start();
  return {
    relay,
    routes,
    emulator,
    stop: async () => {
      await relay.stop();
      sqs.destroy();
      await emulator?.stop();
    },
  };
}
