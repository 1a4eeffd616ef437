import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";
import type { Db } from "../db/client";
import type { BookingEventType } from "../domain/booking-lifecycle";
import { bookingEventEnvelopeSchema, type BookingEventEnvelope } from "../events/envelope";
import type { Logger } from "../logger";
import { notificationFor, type Notifier } from "./notifier";
import { handleOnce } from "./processed-events";

/** The two notification consumers of issue 3; the name is also who gets notified. */
export type ConsumerName = "provider" | "customer";

/** Event types each consumer acts on; every other event on its queue is acknowledged and skipped. */
export const HANDLED_EVENT_TYPES: Record<ConsumerName, readonly BookingEventType[]> = {
  provider: ["BOOKING_CREATED"],
  customer: ["BOOKING_CONFIRMED", "BOOKING_REJECTED", "BOOKING_CANCELLED"],
};

/** Key of a consumer's rows in `processed_events`. */
export function consumerKey(name: ConsumerName): string {
  return `${name}-notifier`;
}

export interface BookingConsumerOptions {
  name: ConsumerName;
  queueUrl: string;
  sqs: SQSClient;
  /** Holds the consumer's processed-event record. */
  db: Db;
  notifier: Notifier;
  log: Logger;
  /** Defaults to {@link HANDLED_EVENT_TYPES}[name]. */
  handledTypes?: readonly BookingEventType[];
  /** Visibility timeout requested on receive; defaults to the queue's own. */
  visibilityTimeoutSeconds?: number;
  /** Long-poll wait, 1-20 s. Default 20. `stop()` may wait this long for the current poll. */
  waitTimeSeconds?: number;
  /** Messages per receive, 1-10. Default 1. */
  batchSize?: number;
  /** Upper bound on how long `stop()` waits for the current poll and its messages. */
  stopTimeoutMs?: number;
}

/** A running (or stopped) queue consumer. */
export interface BookingConsumer {
  readonly name: ConsumerName;
  readonly queueUrl: string;
  start(): void;
  /**
   * Stops polling and resolves once the current poll and every message it returned have been
   * handled (and deleted), or once `stopTimeoutMs` has passed. A message still unhandled then is
   * not deleted, so SQS redelivers it: a stop never loses a message.
   */
  stop(): Promise<void>;
  readonly isRunning: boolean;
}

/**
 * A message the consumer can never handle (not JSON, or not a valid envelope). Throwing it
 * leaves the message on the queue, so the queue's redrive policy moves it to the dead-letter
 * queue after `maxReceiveCount` receives.
 */
export class PoisonMessageError extends Error {
  override name = "PoisonMessageError";
}

/** Parses and validates an SQS body as a booking event envelope. */
export function parseEnvelope(body: string | undefined): BookingEventEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(body ?? "");
  } catch (err) {
    throw new PoisonMessageError(`body is not JSON: ${(err as Error).message}`);
  }
  const parsed = bookingEventEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new PoisonMessageError(`body is not a valid booking event envelope: ${issues}`);
  }
  return parsed.data;
}

function isPoison(err: unknown): boolean {
  return err instanceof PoisonMessageError || (err instanceof Error && err.cause instanceof PoisonMessageError);
}

/**
 * A notification consumer on an SQS queue (sqs-consumer). Per message: validate the envelope
 * (poison -> throw, see {@link PoisonMessageError}); skip event types this consumer does not
 * handle; otherwise notify through `notifier`, at most once per event id across redeliveries and
 * restarts ({@link handleOnce}). The message is deleted only when that returns; a notifier
 * failure leaves it for redelivery.
 */
export function createBookingConsumer(opts: BookingConsumerOptions): BookingConsumer {
  const handled = new Set<BookingEventType>(opts.handledTypes ?? HANDLED_EVENT_TYPES[opts.name]);
  const key = consumerKey(opts.name);
  const log = opts.log.child({ consumer: key, queueUrl: opts.queueUrl });
  const waitTimeSeconds = opts.waitTimeSeconds ?? 20;
  const vt = opts.visibilityTimeoutSeconds;

  async function handleMessage(message: Message): Promise<Message> {
    const receiveCount = message.Attributes?.ApproximateReceiveCount;
    let event: BookingEventEnvelope;
    try {
      event = parseEnvelope(message.Body);
    } catch (err) {
      log.error(
        { messageId: message.MessageId, receiveCount, reason: (err as Error).message },
        "poison message: not deleted; the queue's redrive policy moves it to the dead-letter queue",
      );
      throw err;
    }
    const ctx = { messageId: message.MessageId, eventId: event.eventId, eventType: event.eventType, bookingId: event.bookingId };
    if (!handled.has(event.eventType)) {
      log.debug(ctx, "event type not handled by this consumer: acknowledged");
      return message;
    }
    const outcome = await handleOnce(opts.db, { consumer: key, eventId: event.eventId }, () =>
      opts.notifier.notify(notificationFor(opts.name, event)),
    );
    log.debug({ ...ctx, outcome, receiveCount }, outcome === "duplicate" ? "duplicate event: already notified" : "event handled");
    return message;
  }

  const consumer = Consumer.create({
    queueUrl: opts.queueUrl,
    sqs: opts.sqs,
    handleMessage,
    batchSize: opts.batchSize ?? 1,
    waitTimeSeconds,
    visibilityTimeout: vt,
    // Keep a slow notification invisible to other receivers while it runs.
    heartbeatInterval: vt !== undefined && vt >= 2 ? Math.floor(vt / 2) : undefined,
    messageSystemAttributeNames: ["ApproximateReceiveCount"],
    // stop() must wait out a long poll already under way plus the messages it brings.
    pollingCompleteWaitTimeMs: opts.stopTimeoutMs ?? (waitTimeSeconds + (vt ?? 30)) * 1000,
    // Handlers always return the message; a thrown error is the only "do not delete".
    strictReturn: true,
    suppressFifoWarning: true,
  });

  // Without listeners, EventEmitter would throw on "error".
  consumer.on("error", (err, message) => log.error({ err, messageIds: messageIds(message) }, "SQS error"));
  consumer.on("processing_error", (err, message) => {
    // Poison messages were logged where they were detected.
    if (!isPoison(err)) log.warn({ err, messageId: message.MessageId }, "handling failed: the message stays on the queue and will be redelivered");
  });
  consumer.on("timeout_error", (err, message) => log.warn({ err, messageId: message.MessageId }, "handler timed out"));

  // Shared by concurrent stop() calls, so a second caller also waits for the in-flight work.
  let stopping: Promise<void> | undefined;
  return {
    name: opts.name,
    queueUrl: opts.queueUrl,
    start() {
      stopping = undefined;
      consumer.start();
    },
    get isRunning() {
      return consumer.status.isRunning;
    },
    stop() {
      if (stopping) return stopping;
      if (!consumer.status.isRunning) return Promise.resolve();
      stopping = new Promise<void>((resolve) => {
        // Registered before stop(): it emits "stopped" synchronously when no poll is under way.
        consumer.once("stopped", () => resolve());
        consumer.stop({ abort: false });
      });
      return stopping;
    },
  };
}

function messageIds(message: Message | Message[] | undefined): (string | undefined)[] | undefined {
  if (!message) return undefined;
  return (Array.isArray(message) ? message : [message]).map((m) => m.MessageId);
}
