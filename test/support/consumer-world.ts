import { randomBytes, randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { and, eq } from "drizzle-orm";
import pino from "pino";
import type { Db } from "../../src/db/client";
import { processedEvents } from "../../src/db/schema";
import type { BookingEventType, BookingStatus } from "../../src/domain/booking-lifecycle";
import { createBookingConsumer, type BookingConsumer, type BookingConsumerOptions } from "../../src/consumers/booking-consumer";
import { createConsumerSqsClient } from "../../src/consumers/consumer-config";
import type { Notification, Notifier } from "../../src/consumers/notifier";
import { buildEnvelope, type BookingEventEnvelope } from "../../src/events/envelope";
import { EMULATOR_CREDENTIALS, QUEUE_NAMES, ensureQueues, type QueueKey, type QueueSetupOptions, type QueueUrls } from "../../src/events/queue-setup";
import { startSqsEmulator, type SqsEmulator } from "../../src/events/sqs-emulator";
import { REGION } from "./sqs";
import { waitFor } from "./wait";

/**
 * Harness for the SQS consumer tests: the embedded emulator (fauxqs) on a free port, queues with
 * a unique name prefix per test, real consumers, and a recording notifier.
 */

/** Starts one emulator for the describe block and gives every test its own client. */
export function useEmulator(): { emulator: () => SqsEmulator; sqs: () => SQSClient } {
  let emulator: SqsEmulator | undefined;
  let sqs: SQSClient | undefined;
  beforeAll(async () => {
    emulator = await startSqsEmulator(0, REGION);
    sqs = createConsumerSqsClient({ region: REGION, endpoint: emulator.endpoint, credentials: EMULATOR_CREDENTIALS, waitTimeSeconds: 1 });
  });
  afterAll(async () => {
    sqs?.destroy();
    await emulator?.stop();
  });
  return {
    emulator: () => emulator ?? fail("emulator not started"),
    sqs: () => sqs ?? fail("emulator not started"),
  };
}

function fail(message: string): never {
  throw new Error(message);
}

/** Fresh queues (with DLQs) whose names no other test shares. */
export async function freshQueues(sqs: SQSClient, opts: Omit<QueueSetupOptions, "namePrefix"> = {}): Promise<QueueUrls & { dlq: (key: QueueKey) => Promise<string>; prefix: string }> {
  const prefix = `t${randomBytes(5).toString("hex")}-`;
  const urls = await ensureQueues(sqs, { maxReceiveCount: 5, visibilityTimeoutSeconds: 1, ...opts, namePrefix: prefix });
  const dlq = async (key: QueueKey) => {
    const out = await sqs.send(new GetQueueUrlCommand({ QueueName: `${prefix}${QUEUE_NAMES[key]}-dlq${opts.fifo ? ".fifo" : ""}` }));
    return out.QueueUrl!;
  };
  return { ...urls, dlq, prefix };
}

/** A valid envelope built by the producer's own function, for a fresh booking. */
export function sampleEvent(eventType: BookingEventType, overrides: Partial<BookingEventEnvelope> = {}): BookingEventEnvelope {
  const after: Record<BookingEventType, { status: BookingStatus; previous: BookingStatus | null }> = {
    BOOKING_CREATED: { status: "PENDING", previous: null },
    BOOKING_CONFIRMED: { status: "CONFIRMED", previous: "PENDING" },
    BOOKING_REJECTED: { status: "REJECTED", previous: "PENDING" },
    BOOKING_CANCELLED: { status: "CANCELLED", previous: "CONFIRMED" },
    BOOKING_EXPIRED: { status: "EXPIRED", previous: "PENDING" },
    BOOKING_RESCHEDULED: { status: "CONFIRMED", previous: "CONFIRMED" },
    BOOKING_REMINDER: { status: "CONFIRMED", previous: "CONFIRMED" },
  };
  const startsAt = new Date("2031-05-06T09:00:00.000Z");
  const event = buildEnvelope(
    eventType,
    {
      booking: { id: randomUUID(), providerId: randomUUID(), slotId: randomUUID(), customerId: randomUUID(), status: after[eventType].status },
      slot: { startsAt, endsAt: new Date(startsAt.getTime() + 30 * 60_000) },
    },
    {
      at: new Date("2031-05-01T12:00:00.000Z"),
      previousStatus: after[eventType].previous,
      actorId: randomUUID(),
      reason: eventType === "BOOKING_REJECTED" ? "Fully booked" : null,
    },
  );
  return { ...event, ...overrides };
}

export async function sendBody(sqs: SQSClient, queueUrl: string, body: string): Promise<string> {
  const out = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  return out.MessageId!;
}

export function sendEvent(sqs: SQSClient, queueUrl: string, event: BookingEventEnvelope): Promise<string> {
  return sendBody(sqs, queueUrl, JSON.stringify(event));
}

/** Visible and in-flight (received, not yet deleted) message counts. */
export async function queueCounts(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? NaN),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? NaN),
  };
}

/** Resolves once every message of the queue has been deleted (none visible, none in flight). */
export function waitUntilDrained(sqs: SQSClient, queueUrl: string, timeoutMs = 30_000): Promise<void> {
  return waitFor(`queue ${queueUrl} drained`, async () => {
    const c = await queueCounts(sqs, queueUrl);
    return c.visible === 0 && c.inFlight === 0;
  }, { timeoutMs, intervalMs: 100 }).then(() => undefined);
}

/** A controllable promise. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A real Notifier that records what it delivered. `failFirst` makes its first n calls throw
 * (a delivery failure); `hold` makes a call wait until released, to keep a message in flight.
 */
export class RecordingNotifier implements Notifier {
  readonly delivered: Notification[] = [];
  attempts = 0;
  /** Resolved when a call has started waiting on `hold`. */
  readonly holding = deferred();

  constructor(private readonly opts: { failFirst?: number; hold?: Promise<void> } = {}) {}

  async notify(notification: Notification): Promise<void> {
    this.attempts++;
    if (this.attempts <= (this.opts.failFirst ?? 0)) throw new Error(`notification channel down (attempt ${this.attempts})`);
    if (this.opts.hold) {
      this.holding.resolve();
      await this.opts.hold;
    }
    this.delivered.push(notification);
  }

  forEvent(eventId: string): Notification[] {
    return this.delivered.filter((n) => n.eventId === eventId);
  }
}

/** A pino logger whose JSON lines are kept in memory, to check what the consumer reported. */
export function recordingLogger(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      raw.push(String(chunk));
      cb();
    },
  });
  const log = pino({ level: "debug" }, stream);
  return { log, lines: () => raw.flatMap((chunk) => chunk.split("\n").filter(Boolean)).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Starts consumers with test-friendly polling and stops whatever is left after each test. */
export function useConsumers(): (opts: Omit<BookingConsumerOptions, "log"> & { log?: pino.Logger }) => BookingConsumer {
  const running: BookingConsumer[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
  });
  return (opts) => {
    const consumer = createBookingConsumer({ waitTimeSeconds: 1, log: pino({ level: "silent" }), ...opts });
    running.push(consumer);
    consumer.start();
    return consumer;
  };
}

export async function processedRows(db: Db, consumer: string, eventId: string): Promise<number> {
  const rows = await db
    .select()
    .from(processedEvents)
    .where(and(eq(processedEvents.consumer, consumer), eq(processedEvents.eventId, eventId)));
  return rows.length;
}
