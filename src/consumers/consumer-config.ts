import path from "node:path";
import { GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Config } from "../config";
import { openDatabase, type Database } from "../db/client";
import { EMULATOR_CREDENTIALS, QUEUE_NAMES, type QueueKey } from "../events/queue-setup";
import type { ConsumerName } from "./booking-consumer";

/**
 * The queue each consumer reads. The provider's only event, BOOKING_CREATED, has its own queue.
 * The customer handles BOOKING_CONFIRMED, BOOKING_REJECTED and BOOKING_CANCELLED, and only
 * `booking-events-queue` carries all three (the confirmation queue receives BOOKING_CONFIRMED
 * alone), so the customer consumer reads that queue and acknowledges the event types it skips.
 */
export const CONSUMER_QUEUE: Record<ConsumerName, QueueKey> = {
  provider: "bookingRequest",
  customer: "bookingEvents",
};

const QUEUE_ENV: Record<QueueKey, string> = {
  bookingRequest: "SQS_BOOKING_REQUEST_QUEUE_URL",
  bookingConfirmation: "SQS_BOOKING_CONFIRMATION_QUEUE_URL",
  bookingEvents: "SQS_BOOKING_EVENTS_QUEUE_URL",
};

/** A consumer cannot find its queue; the message says what to configure or start. */
export class ConsumerSetupError extends Error {
  override name = "ConsumerSetupError";
}

/** Where a consumer reads from. */
export interface ConsumerQueue {
  sqs: SQSClient;
  queueUrl: string;
  /** The SQS endpoint, or undefined for the SDK's default (AWS). */
  endpoint?: string;
  source: "configured" | "embedded-emulator";
}

/**
 * An SQS client for long polling. Unlike the relay's client, its request timeout must outlast
 * `waitTimeSeconds`, or every empty long poll would fail as a timeout.
 */
export function createConsumerSqsClient(opts: {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  waitTimeSeconds: number;
}): SQSClient {
  return new SQSClient({
    region: opts.region,
    endpoint: opts.endpoint,
    credentials: opts.credentials,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: (opts.waitTimeSeconds + 10) * 1000 },
  });
}

/**
 * Resolves the consumer's queue.
 * - SQS configured (`AWS_ENDPOINT_URL_SQS` or a queue URL set): the queue URL from the
 *   environment, credentials from the SDK's default chain; a missing URL is an error.
 * - Otherwise: the embedded emulator of a running `npm start` on 127.0.0.1:`SQS_EMULATOR_PORT`,
 *   where the queue URL is looked up by name.
 *
 * @throws ConsumerSetupError when the queue URL is not configured or the emulator does not answer
 */
export async function resolveConsumerQueue(config: Config, name: ConsumerName, waitTimeSeconds: number): Promise<ConsumerQueue> {
  const queueKey = CONSUMER_QUEUE[name];
  if (config.sqsConfigured) {
    const queueUrl = config.queues[queueKey];
    if (!queueUrl) {
      throw new ConsumerSetupError(
        `The ${name} consumer reads ${QUEUE_NAMES[queueKey]}, but ${QUEUE_ENV[queueKey]} is not set (SQS is configured, so the embedded emulator is not used).`,
      );
    }
    const sqs = createConsumerSqsClient({ region: config.aws.region, endpoint: config.aws.sqsEndpoint, waitTimeSeconds });
    return { sqs, queueUrl, endpoint: config.aws.sqsEndpoint, source: "configured" };
  }

  if (config.sqsEmulatorPort === 0) {
    throw new ConsumerSetupError("SQS_EMULATOR_PORT=0 lets the API's emulator pick any port, which a consumer cannot find: set the port explicitly.");
  }
  const endpoint = `http://127.0.0.1:${config.sqsEmulatorPort}`;
  const sqs = createConsumerSqsClient({ region: config.aws.region, endpoint, credentials: EMULATOR_CREDENTIALS, waitTimeSeconds });
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE_NAMES[queueKey] }));
    if (!QueueUrl) throw new Error("GetQueueUrl returned no URL");
    return { sqs, queueUrl: QueueUrl, endpoint, source: "embedded-emulator" };
  } catch (err) {
    sqs.destroy();
    throw new ConsumerSetupError(
      `No SQS is configured and the embedded emulator at ${endpoint} has no ${QUEUE_NAMES[queueKey]} (${(err as Error).message}). ` +
        `Start the API first (\`npm start\` embeds the emulator), or set ${QUEUE_ENV[queueKey]} (and AWS_ENDPOINT_URL_SQS for a non-AWS endpoint).`,
    );
  }
}

/**
 * Opens the database holding the consumer's processed-event record, with migrations applied:
 * `DATABASE_URL` when set (shared with the API; rows are keyed by consumer), else an embedded
 * PGlite at `<CONSUMER_STATE_DIR>/<name>` — one directory per consumer, because PGlite allows a
 * single process per data directory.
 */
export async function openConsumerDatabase(config: Config, name: ConsumerName): Promise<Database> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: path.join(config.consumerStateDir, name),
    poolMax: 4,
  });
  try {
    await database.migrate();
  } catch (err) {
    await database.close().catch(() => undefined);
    throw err;
  }
  return database;
}
