import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";

/** The three Slotwise queues (DESIGN.md "Environment"); each has a `-dlq` twin. */
export const QUEUE_NAMES = {
  bookingRequest: "booking-request-queue",
  bookingConfirmation: "booking-confirmation-queue",
  bookingEvents: "booking-events-queue",
} as const;
export type QueueKey = keyof typeof QUEUE_NAMES;

/** URLs of the queues, by role. */
export type QueueUrls = Record<QueueKey, string>;

export interface QueueSetupOptions {
  /** Receives before a message moves to the dead-letter queue (SQS RedrivePolicy). Default 5. */
  maxReceiveCount?: number;
  /** Default visibility timeout of the main queues, in seconds. Default 30. */
  visibilityTimeoutSeconds?: number;
  /** Create `.fifo` queues (FIFO needs a FIFO dead-letter queue too). Default false. */
  fifo?: boolean;
  /** Prefix for queue names, e.g. to isolate tests on one endpoint. Default none. */
  namePrefix?: string;
}

/**
 * Creates the three queues and their `-dlq` twins, attached by a redrive policy.
 * Idempotent: CreateQueue with the same attributes returns the existing queue
 * (AWS SQS API reference, CreateQueue). Works on AWS, ElasticMQ and the embedded emulator.
 *
 * @returns the main queues' URLs
 * @throws the SDK's error when the endpoint refuses (e.g. an existing queue with other attributes)
 */
export async function ensureQueues(sqs: SQSClient, opts: QueueSetupOptions = {}): Promise<QueueUrls> {
  const suffix = opts.fifo ? ".fifo" : "";
  const fifoAttrs: Record<string, string> = opts.fifo ? { FifoQueue: "true" } : {};
  const entries = await Promise.all(
    (Object.keys(QUEUE_NAMES) as QueueKey[]).map(async (key) => {
      const base = `${opts.namePrefix ?? ""}${QUEUE_NAMES[key]}`;
      const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${base}-dlq${suffix}`, Attributes: { ...fifoAttrs } }));
      const dlqAttrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ["QueueArn"] }));
      const main = await sqs.send(
        new CreateQueueCommand({
          QueueName: `${base}${suffix}`,
          Attributes: {
            ...fifoAttrs,
            VisibilityTimeout: String(opts.visibilityTimeoutSeconds ?? 30),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlqAttrs.Attributes!.QueueArn,
              maxReceiveCount: String(opts.maxReceiveCount ?? 5),
            }),
          },
        }),
      );
      return [key, main.QueueUrl!] as const;
    }),
  );
  return Object.fromEntries(entries) as QueueUrls;
}

/**
 * An SQS client with bounded timeouts, so an unreachable endpoint fails a call in seconds
 * instead of hanging the relay. `endpoint` is `AWS_ENDPOINT_URL_SQS`; credentials come from
 * the SDK's default chain unless given (the emulator accepts any).
 */
export function createSqsClient(opts: { region: string; endpoint?: string; credentials?: SQSClientConfig["credentials"] }): SQSClient {
  return new SQSClient({
    region: opts.region,
    endpoint: opts.endpoint,
    credentials: opts.credentials,
    // The relay retries on its own schedule (with backoff); one SDK attempt keeps failures prompt.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
  });
}

/** Static credentials for the embedded emulator, which accepts any. */
export const EMULATOR_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
