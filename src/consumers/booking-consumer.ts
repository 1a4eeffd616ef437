import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";
import type { Db } from "../db/client";
import { BOOKING_EVENT_TYPES, type BookingEventType } from "../domain/enums";
import { bookingEventEnvelopeSchema, type BookingEventEnvelope } from "../events/envelope";
import type { Logger } from "../logger";
import { catalogTypes, templateFor, type NotificationRecipient } from "./notification-catalog";
import { notificationFor, type Notifier } from "./notifier";
import { handleOnce } from "./processed-events";

/** The two notification consumers of issue 3; each reads its own queue. */
export type ConsumerName = "provider" | "customer";

/** Who a consumer notifies of which event types. */
export interface NotificationRoute {
  recipient: NotificationRecipient;
  eventTypes: readonly BookingEventType[];
}

/**
 * What each consumer sends, from {@link NOTIFICATION_CATALOG}. The provider consumer reads
 * `booking-request-queue`, which carries BOOKING_CREATED only. Everything else (the customer's
 * messages, and the owner's of customer cancellations and reschedules) exists only on
 * `booking-events-queue`; a standard queue hands each message to one reader, so the consumer of
 * that queue, the customer consumer, sends all of it.
 */
export const CONSUMER_ROUTES: Record<ConsumerName, readonly NotificationRoute[]> = {
  provider: [{ recipient: "provider", eventTypes: ["BOOKING_CREATED"] }],
  customer: [
    { recipient: "customer", eventTypes: catalogTypes("customer") },
    { recipient: "provider", eventTypes: catalogTypes("provider").filter((t) => t !== "BOOKING_CREATED") },
  ],
};

/** Event types each consumer acts on; every other event on its queue is acknowledged and skipped. */
export const HANDLED_EVENT_TYPES: Record<ConsumerName, readonly BookingEventType[]> = {
  provider: [...new Set(CONSUMER_ROUTES.provider.flatMap((r) => r.eventTypes))],
  customer: [...new Set(CONSUMER_ROUTES.customer.flatMap((r) => r.eventTypes))],
};

/**
 * Key of a recipient's rows in `processed_events`: one row per (recipient, event) notified, so a
 * redelivery after a partial failure sends only what is missing.
 */
export function consumerKey(recipient: NotificationRecipient): string {
  return `${recipient}-notifier`;
}

export interface BookingConsumerOptions {
  name: ConsumerName;
  queueUrl: string;
  sqs: SQSClient;
  /** Holds the consumer's processed-event record. */
  db: Db;
  notifier: Notifier;
  log: Logger;
  /** Defaults to {@link CONSUMER_ROUTES}[name]. */
  routes?: readonly NotificationRoute[];
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

/**
 * The event type of a body that is otherwise an envelope of a type this build does not know (a
 * newer producer's), or undefined. docs/events.md: consumers skip types they do not know.
 */
export function unknownEventType(body: string | undefined): string | undefined {
  try {
    const json = JSON.parse(body ?? "") as { eventType?: unknown; version?: unknown } | null;
    const type = json?.eventType;
    if (json?.version !== 1 || typeof type !== "string") return undefined;
    return (BOOKING_EVENT_TYPES as readonly string[]).includes(type) ? undefined : type;
  } catch {
    return undefined;
  }
}

function isPoison(err: unknown): boolean {
  return err instanceof PoisonMessageError || (err instanceof Error && err.cause instanceof PoisonMessageError);
}

/**
 * The per-message handler of a consumer: acknowledge an unknown event type, refuse poison, find
 * the recipients and notify each once. Returns the message (acknowledged) or throws (left on the
 * queue); see {@link createBookingConsumer}.
 */
function messageHandler(opts: BookingConsumerOptions, routes: readonly NotificationRoute[], log: Logger): (message: Message) => Promise<Message> {
  return async (message) => {
    const receiveCount = message.Attributes?.ApproximateReceiveCount;
    const unknownType = unknownEventType(message.Body);
    if (unknownType) {
      log.debug({ messageId: message.MessageId, eventType: unknownType }, "event type unknown to this consumer: acknowledged");
      return message;
    }
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
    const recipients = routes
      .filter((r) => r.eventTypes.includes(event.eventType) && templateFor(event, r.recipient) !== undefined)
      .map((r) => r.recipient);
    if (recipients.length === 0) {
      log.debug(ctx, "event type not handled by this consumer: acknowledged");
      return message;
    }
    // One record per recipient: if the second send fails, the redelivery skips the first.
    for (const recipient of recipients) {
      const outcome = await handleOnce(opts.db, { consumer: consumerKey(recipient), eventId: event.eventId }, (tx) =>
        opts.notifier.notify(notificationFor(recipient, event), { event, db: tx }),
      );
      log.debug({ ...ctx, recipient, outcome, receiveCount }, outcome === "duplicate" ? "duplicate event: already notified" : "event handled");
    }
    return message;
  };
}

/** The sqs-consumer poller for `handleMessage`, with its timings and its error listeners. */
function createSqsConsumer(opts: BookingConsumerOptions, handleMessage: (message: Message) => Promise<Message>, log: Logger): Consumer {
  const waitTimeSeconds = opts.waitTimeSeconds ?? 20;
  const vt = opts.visibilityTimeoutSeconds;
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
  return consumer;
}

/**
 * A notification consumer on an SQS queue (sqs-consumer). Per message: acknowledge an event type
 * this build does not know ({@link unknownEventType}); validate the envelope (poison -> throw, see
 * {@link PoisonMessageError}); find its recipients ({@link CONSUMER_ROUTES}, narrowed by the
 * catalog's conditions) and acknowledge it when there are none; otherwise notify each through
 * `notifier`, once per (recipient, event id) across redeliveries and restarts
 * ({@link handleOnce}). The message is deleted only when every recipient is done; a notifier
 * failure leaves it for redelivery.
 */
export function createBookingConsumer(opts: BookingConsumerOptions): BookingConsumer {
  const routes = opts.routes ?? CONSUMER_ROUTES[opts.name];
  const log = opts.log.child({ consumer: `${opts.name}-consumer`, queueUrl: opts.queueUrl });
  const consumer = createSqsConsumer(opts, messageHandler(opts, routes, log), log);

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
