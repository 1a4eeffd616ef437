import type { Logger } from "pino";
import type { Config } from "../config";
import type { Db } from "../db/client";
import type { Clock } from "../domain/clock";
import { OutboxRelay, type OutboxRelayOptions } from "./outbox-relay";
import { EMULATOR_CREDENTIALS, createSqsClient } from "./queue-setup";
import { startOrJoinSqsEmulator, type SqsEmulator } from "./sqs-emulator";
import type { QueueRoutes } from "./sqs-routing";

/** A started relay with the SQS resources it owns. */
export interface RelayHandle {
  relay: OutboxRelay;
  routes: QueueRoutes;
  /** Set when no SQS was configured and the embedded emulator was started (or joined). */
  emulator?: SqsEmulator;
  /** Stops the relay after its current round, then closes the client and an emulator it owns. */
  stop(): Promise<void>;
}

/**
 * Warnings about an SQS configuration that would send events nowhere: an endpoint
 * (`AWS_ENDPOINT_URL_SQS`) with no queue URL at all means the embedded emulator is off and no
 * event has a queue, so the relay would mark every event sent without sending it.
 */
export function sqsConfigurationWarnings(config: Config): string[] {
  const { bookingRequest, bookingConfirmation, bookingEvents } = config.queues;
  if (config.aws.sqsEndpoint && !bookingRequest && !bookingConfirmation && !bookingEvents) {
    return [
      `AWS_ENDPOINT_URL_SQS is set (${config.aws.sqsEndpoint}) but no queue URL is: events go to no queue. ` +
        "Set SQS_BOOKING_REQUEST_QUEUE_URL, SQS_BOOKING_CONFIRMATION_QUEUE_URL and SQS_BOOKING_EVENTS_QUEUE_URL " +
        "(`npm run queues:setup` prints them), or unset AWS_ENDPOINT_URL_SQS to use the embedded emulator.",
    ];
  }
  return [];
}

/**
 * Starts the outbox relay against the configured SQS, or, with nothing configured, against an
 * embedded emulator on 127.0.0.1 (`SQS_EMULATOR_PORT`) with the queues created. When that port
 * already has a Slotwise emulator (another development instance), the relay uses it.
 *
 * @throws SqsEmulatorPortError when the emulator's port is taken by something else
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
  for (const warning of sqsConfigurationWarnings(config)) log.warn(warning);
  if (!config.sqsConfigured) {
    emulator = await startOrJoinSqsEmulator(config.sqsEmulatorPort, config.aws.region);
    routes = emulator.queueUrls;
    endpoint = emulator.endpoint;
    log.info(
      { endpoint, queues: emulator.queueUrls, credentials: "any (e.g. AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local)" },
      emulator.owned
        ? `embedded SQS emulator on ${endpoint}`
        : `SQS_EMULATOR_PORT ${emulator.port} already has a Slotwise SQS emulator (another instance): sending to it on ${endpoint}`,
    );
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
