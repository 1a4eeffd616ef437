import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { consumerKey } from "../../src/consumers/booking-consumer";
import {
  RecordingNotifier,
  deferred,
  freshQueues,
  processedRows,
  queueCounts,
  recordingLogger,
  sampleEvent,
  sendBody,
  sendEvent,
  useConsumers,
  useEmulator,
  waitUntilDrained,
} from "../support/consumer-world";
import { BACKENDS, useBackend } from "../support/service-world";
import { sleep, waitFor } from "../support/wait";

describe.each(BACKENDS)("SQS consumer failure handling on $name", (backend) => {
  const { it } = useBackend(backend);
  const { sqs } = useEmulator();
  const startConsumer = useConsumers();

  it("a malformed message (not JSON, or JSON that is not an envelope) goes to the dead-letter queue after maxReceiveCount receives, never notified", async (db) => {
    const maxReceiveCount = 2;
    const queues = await freshQueues(sqs(), { maxReceiveCount, visibilityTimeoutSeconds: 1 });
    const dlqUrl = await queues.dlq("bookingRequest");
    const notifier = new RecordingNotifier();
    const { log, lines } = recordingLogger();
    const notJson = "BOOKING_CREATED for booking 42";
    const badEnvelope = JSON.stringify({ ...sampleEvent("BOOKING_CREATED"), eventId: "not-a-uuid", version: 2 });
    const poisonIds = [await sendBody(sqs(), queues.bookingRequest, notJson), await sendBody(sqs(), queues.bookingRequest, badEnvelope)];
    const good = sampleEvent("BOOKING_CREATED");
    await sendEvent(sqs(), queues.bookingRequest, good);

    startConsumer({ name: "provider", queueUrl: queues.bookingRequest, sqs: sqs(), db, notifier, log, visibilityTimeoutSeconds: 1 });

    await waitFor("both poison messages reach the DLQ", async () => (await queueCounts(sqs(), dlqUrl)).visible === 2);
    await waitUntilDrained(sqs(), queues.bookingRequest);

    const inDlq = await sqs().send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect((inDlq.Messages ?? []).map((m) => m.Body).sort()).toEqual([notJson, badEnvelope].sort());
    // Only the valid event was notified; the poison never reached the notifier.
    expect(notifier.attempts).toBe(1);
    expect(notifier.delivered.map((n) => n.eventId)).toEqual([good.eventId]);
    // Each poison message was received (and reported, with its id) exactly maxReceiveCount times.
    const poisonLines = lines().filter((l) => typeof l.msg === "string" && l.msg.startsWith("poison message"));
    for (const id of poisonIds) {
      const forId = poisonLines.filter((l) => l.messageId === id);
      expect(forId.map((l) => l.receiveCount)).toEqual(["1", "2"]);
    }
    expect(poisonLines.find((l) => l.messageId === poisonIds[1])?.reason).toMatch(/eventId/);
  });

  it("a notifier failure leaves the message for redelivery, and the retry notifies exactly once", async (db) => {
    const queues = await freshQueues(sqs(), { visibilityTimeoutSeconds: 1 });
    const notifier = new RecordingNotifier({ failFirst: 1 });
    const event = sampleEvent("BOOKING_CONFIRMED");
    startConsumer({ name: "customer", queueUrl: queues.bookingEvents, sqs: sqs(), db, notifier, visibilityTimeoutSeconds: 1 });

    await sendEvent(sqs(), queues.bookingEvents, event);

    await waitFor("the redelivery is notified", () => notifier.delivered.length > 0);
    await waitUntilDrained(sqs(), queues.bookingEvents);
    expect(notifier.attempts).toBe(2);
    expect(notifier.forEvent(event.eventId)).toHaveLength(1);
    expect(await processedRows(db, consumerKey("customer"), event.eventId)).toBe(1);
  });

  it("a graceful stop (SIGTERM) waits for the notification in flight, then deletes its message", async (db) => {
    const queues = await freshQueues(sqs(), { visibilityTimeoutSeconds: 10 });
    const release = deferred();
    const notifier = new RecordingNotifier({ hold: release.promise });
    const event = sampleEvent("BOOKING_CREATED");
    const consumer = startConsumer({ name: "provider", queueUrl: queues.bookingRequest, sqs: sqs(), db, notifier, visibilityTimeoutSeconds: 10 });
    await sendEvent(sqs(), queues.bookingRequest, event);
    await notifier.holding.promise;

    let stopped = false;
    const stopping = consumer.stop().then(() => (stopped = true));
    // While the notification is held, stop() cannot be done; give a wrong implementation time to show it.
    await sleep(1_500);
    expect(stopped).toBe(false);
    expect(await queueCounts(sqs(), queues.bookingRequest)).toEqual({ visible: 0, inFlight: 1 });

    release.resolve();
    await stopping;
    expect(consumer.isRunning).toBe(false);
    expect(notifier.forEvent(event.eventId)).toHaveLength(1);
    expect(await queueCounts(sqs(), queues.bookingRequest)).toEqual({ visible: 0, inFlight: 0 });
    expect(await processedRows(db, consumerKey("provider"), event.eventId)).toBe(1);
  });
});
