import { consumerKey } from "../../src/consumers/booking-consumer";
import type { BookingEventType } from "../../src/domain/booking-lifecycle";
import {
  RecordingNotifier,
  freshQueues,
  processedRows,
  sampleEvent,
  sendBody,
  sendEvent,
  useConsumers,
  useEmulator,
  waitUntilDrained,
} from "../support/consumer-world";
import { BACKENDS, useBackend } from "../support/service-world";
import { waitFor } from "../support/wait";

describe.each(BACKENDS)("SQS notification consumers with the processed-event store on $name", (backend) => {
  const { it } = useBackend(backend);
  const { sqs } = useEmulator();
  const startConsumer = useConsumers();

  it("the provider consumer notifies the provider once of a BOOKING_CREATED and deletes the message", async (db) => {
    const queues = await freshQueues(sqs());
    const notifier = new RecordingNotifier();
    startConsumer({ name: "provider", queueUrl: queues.bookingRequest, sqs: sqs(), db, notifier });
    const event = sampleEvent("BOOKING_CREATED");

    await sendEvent(sqs(), queues.bookingRequest, event);

    await waitFor("the provider is notified", () => notifier.delivered.length > 0);
    await waitUntilDrained(sqs(), queues.bookingRequest);
    expect(notifier.delivered).toEqual([
      {
        recipient: "provider",
        eventType: "BOOKING_CREATED",
        eventId: event.eventId,
        bookingId: event.bookingId,
        providerId: event.providerId,
        userId: event.userId,
        slotStart: event.slotStart,
        slotEnd: event.slotEnd,
        status: "PENDING",
        reason: null,
      },
    ]);
    expect(await processedRows(db, consumerKey("provider"), event.eventId)).toBe(1);
  });

  it("the same event delivered twice notifies once, and both copies are deleted", async (db) => {
    const queues = await freshQueues(sqs());
    const notifier = new RecordingNotifier();
    const body = JSON.stringify(sampleEvent("BOOKING_CREATED"));
    const { eventId } = JSON.parse(body) as { eventId: string };
    await sendBody(sqs(), queues.bookingRequest, body);
    await sendBody(sqs(), queues.bookingRequest, body);

    startConsumer({ name: "provider", queueUrl: queues.bookingRequest, sqs: sqs(), db, notifier, batchSize: 10 });

    await waitFor("the provider is notified", () => notifier.delivered.length > 0);
    await waitUntilDrained(sqs(), queues.bookingRequest);
    expect(notifier.forEvent(eventId)).toHaveLength(1);
    expect(notifier.attempts).toBe(1);
  });

  it("stays idempotent across a restart: a new consumer on the same store does not notify a redelivered event again", async (db) => {
    const queues = await freshQueues(sqs());
    const first = new RecordingNotifier();
    const event = sampleEvent("BOOKING_CREATED");
    const consumer = startConsumer({ name: "provider", queueUrl: queues.bookingRequest, sqs: sqs(), db, notifier: first });
    await sendEvent(sqs(), queues.bookingRequest, event);
    await waitFor("the first consumer notifies", () => first.delivered.length > 0);
    await waitUntilDrained(sqs(), queues.bookingRequest);
    await consumer.stop();
    expect(consumer.isRunning).toBe(false);

    const second = new RecordingNotifier();
    startConsumer({ name: "provider", queueUrl: queues.bookingRequest, sqs: sqs(), db, notifier: second });
    const fresh = sampleEvent("BOOKING_CREATED");
    await sendEvent(sqs(), queues.bookingRequest, event);
    // A new event after the redelivered one proves the second consumer is live and got that far.
    await sendEvent(sqs(), queues.bookingRequest, fresh);

    await waitFor("the second consumer notifies the new event", () => second.forEvent(fresh.eventId).length > 0);
    await waitUntilDrained(sqs(), queues.bookingRequest);
    expect(first.forEvent(event.eventId)).toHaveLength(1);
    expect(second.forEvent(event.eventId)).toHaveLength(0);
    expect(second.delivered.map((n) => n.eventId)).toEqual([fresh.eventId]);
  });

  it("the customer consumer notifies the customer of every event type in the catalog, and acknowledges a type it does not know", async (db) => {
    const queues = await freshQueues(sqs());
    const notifier = new RecordingNotifier();
    const handled: BookingEventType[] = [
      "BOOKING_CREATED",
      "BOOKING_CONFIRMED",
      "BOOKING_REJECTED",
      "BOOKING_CANCELLED",
      "BOOKING_EXPIRED",
      "BOOKING_RESCHEDULED",
      "BOOKING_REMINDER",
    ];
    const events = handled.map((t) => sampleEvent(t));
    for (const e of events) await sendEvent(sqs(), queues.bookingEvents, e);
    // A newer producer's event type: skipped (docs/events.md), neither notified nor dead-lettered.
    const future = { ...sampleEvent("BOOKING_CREATED"), eventType: "WAITLIST_OFFER_MADE" };
    await sendBody(sqs(), queues.bookingEvents, JSON.stringify(future));

    startConsumer({ name: "customer", queueUrl: queues.bookingEvents, sqs: sqs(), db, notifier, batchSize: 10 });

    await waitFor("seven customer notifications", () => notifier.delivered.length >= handled.length);
    await waitUntilDrained(sqs(), queues.bookingEvents);
    const expected = events.map((e) => ({ recipient: "customer", eventType: e.eventType, eventId: e.eventId, bookingId: e.bookingId, userId: e.userId, status: e.status, reason: e.reason }));
    const got = notifier.delivered.map((n) => ({ recipient: n.recipient, eventType: n.eventType, eventId: n.eventId, bookingId: n.bookingId, userId: n.userId, status: n.status, reason: n.reason }));
    // The samples' actor is not the customer, so the owner hears of none of these.
    expect(got.sort(byEventId)).toEqual(expected.sort(byEventId));
    expect(await processedRows(db, consumerKey("customer"), future.eventId)).toBe(0);
  });

  it("the customer consumer also tells the provider's owner of a customer's cancellation and reschedule, not of the provider's own", async (db) => {
    const queues = await freshQueues(sqs());
    const notifier = new RecordingNotifier();
    const byCustomer = (t: BookingEventType) => {
      const e = sampleEvent(t);
      return { ...e, actorId: e.userId };
    };
    const cancelled = byCustomer("BOOKING_CANCELLED");
    const moved = byCustomer("BOOKING_RESCHEDULED");
    const cancelledByProvider = sampleEvent("BOOKING_CANCELLED");
    for (const e of [cancelled, moved, cancelledByProvider]) await sendEvent(sqs(), queues.bookingEvents, e);

    startConsumer({ name: "customer", queueUrl: queues.bookingEvents, sqs: sqs(), db, notifier, batchSize: 10 });

    await waitFor("five notifications", () => notifier.delivered.length >= 5);
    await waitUntilDrained(sqs(), queues.bookingEvents);
    const got = notifier.delivered.map((n) => `${n.recipient} ${n.eventId}`).sort();
    expect(got).toEqual(
      [`customer ${cancelled.eventId}`, `provider ${cancelled.eventId}`, `customer ${moved.eventId}`, `provider ${moved.eventId}`, `customer ${cancelledByProvider.eventId}`].sort(),
    );
    expect(await processedRows(db, consumerKey("provider"), cancelled.eventId)).toBe(1);
    expect(await processedRows(db, consumerKey("provider"), cancelledByProvider.eventId)).toBe(0);
  });

  it("the provider consumer deletes a BOOKING_CONFIRMED without notifying anyone", async (db) => {
    const queues = await freshQueues(sqs());
    const notifier = new RecordingNotifier();
    const created = sampleEvent("BOOKING_CREATED");
    await sendEvent(sqs(), queues.bookingRequest, sampleEvent("BOOKING_CONFIRMED"));
    await sendEvent(sqs(), queues.bookingRequest, created);

    startConsumer({ name: "provider", queueUrl: queues.bookingRequest, sqs: sqs(), db, notifier });

    await waitFor("the BOOKING_CREATED is notified", () => notifier.delivered.length > 0);
    await waitUntilDrained(sqs(), queues.bookingRequest);
    expect(notifier.delivered.map((n) => n.eventId)).toEqual([created.eventId]);
  });
});

function byEventId(a: { eventId: string }, b: { eventId: string }): number {
  return a.eventId.localeCompare(b.eventId);
}
