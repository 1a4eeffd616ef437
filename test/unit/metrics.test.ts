import { randomUUID } from "node:crypto";
import { PubSub, type PubSubEngine } from "graphql-subscriptions";
import pino from "pino";
import type { BookingEventType, BookingStatus } from "../../src/domain/booking-lifecycle";
import { buildEnvelope } from "../../src/events/envelope";
import { LivePublisher } from "../../src/events/live-publisher";
import { LivePubSub, type BookingEventMessage } from "../../src/events/pubsub";
import { Metrics } from "../../src/observability/metrics";
import { metricTypes, parseSamples, sampleValue } from "./prometheus-text";

const silent = pino({ level: "silent" });

const SLOTWISE_METRICS: Record<string, string> = {
  graphql_request_duration_seconds: "histogram",
  graphql_ws_connections: "gauge",
  graphql_ws_subscriptions: "gauge",
  booking_transitions_total: "counter",
  outbox_backlog_events: "gauge",
  outbox_oldest_age_seconds: "gauge",
  outbox_relay_send_failures_total: "counter",
  pubsub_publish_failures_total: "counter",
};

/** A committed booking event as the services hand it to the LivePublisher. */
function message(eventType: BookingEventType, from: BookingStatus | null, to: BookingStatus): BookingEventMessage {
  const booking = { id: randomUUID(), providerId: randomUUID(), slotId: randomUUID(), customerId: randomUUID(), status: to };
  const slot = { startsAt: new Date("2030-01-01T09:00:00Z"), endsAt: new Date("2030-01-01T09:30:00Z") };
  const event = buildEnvelope(eventType, { booking, slot }, { at: new Date(), previousStatus: from, actorId: null });
  const at = new Date().toISOString();
  return {
    event,
    booking: { id: booking.id, status: to, slotId: booking.slotId, providerId: booking.providerId, customerId: booking.customerId, createdAt: at, updatedAt: at, holdExpiresAt: null, reason: null },
  };
}

/** A pub/sub transport that is down: every publish rejects (Redis unreachable). */
class DownEngine extends PubSub {
  override publish(): Promise<void> {
    return Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
  }
}

describe("Metrics registry", () => {
  test("renders every Slotwise metric with its type, plus prom-client's process metrics", async () => {
    const text = await new Metrics().render();
    const types = metricTypes(text);
    for (const [name, type] of Object.entries(SLOTWISE_METRICS)) expect([name, types.get(name)]).toEqual([name, type]);
    expect(types.get("process_cpu_user_seconds_total")).toBe("counter");
    expect(types.get("nodejs_eventloop_lag_seconds")).toBe("gauge");
    expect(parseSamples(text).length).toBeGreaterThan(0);
  });

  test("contentType is Prometheus text exposition", () => {
    expect(new Metrics({ defaultMetrics: false }).contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  test("booking_transitions_total shows every transition type at 0 before any change, and no reminder series", async () => {
    const text = await new Metrics({ defaultMetrics: false }).render();
    for (const type of ["BOOKING_CREATED", "BOOKING_CONFIRMED", "BOOKING_REJECTED", "BOOKING_CANCELLED", "BOOKING_EXPIRED", "BOOKING_RESCHEDULED"]) {
      expect([type, sampleValue(text, "booking_transitions_total", { event_type: type })]).toEqual([type, 0]);
    }
    expect(sampleValue(text, "booking_transitions_total", { event_type: "BOOKING_REMINDER" })).toBeUndefined();
  });

  test("graphql_request_duration_seconds keeps one series per operation and outcome", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.observeOperation("CreateBooking", "ok", 0.02);
    metrics.observeOperation("CreateBooking", "ok", 0.03);
    metrics.observeOperation("CreateBooking", "error", 0.5);
    metrics.observeOperation(undefined, "ok", 0.001);
    const text = await metrics.render();
    expect(sampleValue(text, "graphql_request_duration_seconds_count", { operation: "CreateBooking", outcome: "ok" })).toBe(2);
    expect(sampleValue(text, "graphql_request_duration_seconds_sum", { operation: "CreateBooking", outcome: "ok" })).toBeCloseTo(0.05, 10);
    expect(sampleValue(text, "graphql_request_duration_seconds_count", { operation: "CreateBooking", outcome: "error" })).toBe(1);
    expect(sampleValue(text, "graphql_request_duration_seconds_bucket", { operation: "CreateBooking", outcome: "error", le: "0.25" })).toBe(0);
    expect(sampleValue(text, "graphql_request_duration_seconds_bucket", { operation: "CreateBooking", outcome: "error", le: "0.5" })).toBe(1);
    expect(sampleValue(text, "graphql_request_duration_seconds_count", { operation: "anonymous", outcome: "ok" })).toBe(1);
  });

  test("operation labels are bounded: non-names and names beyond the cap become `other`", () => {
    const metrics = new Metrics({ defaultMetrics: false, maxOperationNames: 2 });
    expect(metrics.operationLabel("A")).toBe("A");
    expect(metrics.operationLabel("B")).toBe("B");
    expect(metrics.operationLabel("C")).toBe("other");
    expect(metrics.operationLabel("A")).toBe("A");
    expect(metrics.operationLabel("not a name\n")).toBe("other");
    expect(metrics.operationLabel("x".repeat(65))).toBe("other");
    expect(metrics.operationLabel(null)).toBe("anonymous");
    expect(metrics.operationLabel("")).toBe("anonymous");
  });

  test("gauges and counters move, and two registries in one process are independent", async () => {
    const a = new Metrics({ defaultMetrics: false });
    const b = new Metrics({ defaultMetrics: false });
    a.wsConnections.inc();
    a.wsConnections.inc();
    a.wsConnections.dec();
    a.wsSubscriptions.inc(3);
    a.relaySendFailed(4);
    a.relaySendFailed(0);
    a.pubsubPublishFailed();
    const textA = await a.render();
    const textB = await b.render();
    expect(sampleValue(textA, "graphql_ws_connections")).toBe(1);
    expect(sampleValue(textA, "graphql_ws_subscriptions")).toBe(3);
    expect(sampleValue(textA, "outbox_relay_send_failures_total")).toBe(4);
    expect(sampleValue(textA, "pubsub_publish_failures_total")).toBe(1);
    expect(sampleValue(textB, "graphql_ws_connections")).toBe(0);
    expect(sampleValue(textB, "outbox_relay_send_failures_total")).toBe(0);
  });

  test("without a database the outbox gauges read 0 and rendering does not fail", async () => {
    const text = await new Metrics({ defaultMetrics: false }).render();
    expect(sampleValue(text, "outbox_backlog_events")).toBe(0);
    expect(sampleValue(text, "outbox_oldest_age_seconds")).toBe(0);
  });
});

describe("LivePublisher hooks into Metrics", () => {
  test("each committed booking event counts once by type; reminders are not transitions", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const live = new LivePublisher(new LivePubSub(new PubSub()), silent, metrics.livePublisherHooks());
    await live.publish({ bookingEvents: [message("BOOKING_CREATED", null, "PENDING"), message("BOOKING_CONFIRMED", "PENDING", "CONFIRMED")], slots: [] });
    await live.publish({ bookingEvents: [message("BOOKING_CREATED", null, "PENDING"), message("BOOKING_REMINDER", "CONFIRMED", "CONFIRMED")], slots: [] });
    const text = await metrics.render();
    expect(sampleValue(text, "booking_transitions_total", { event_type: "BOOKING_CREATED" })).toBe(2);
    expect(sampleValue(text, "booking_transitions_total", { event_type: "BOOKING_CONFIRMED" })).toBe(1);
    expect(sampleValue(text, "booking_transitions_total", { event_type: "BOOKING_CANCELLED" })).toBe(0);
    expect(sampleValue(text, "booking_transitions_total", { event_type: "BOOKING_REMINDER" })).toBeUndefined();
    expect(sampleValue(text, "pubsub_publish_failures_total")).toBe(0);
  });

  test("a pub/sub transport that is down counts each failed publish, and the transitions still count", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const live = new LivePublisher(new LivePubSub(new DownEngine() as PubSubEngine), silent, metrics.livePublisherHooks());
    const created = message("BOOKING_CREATED", null, "PENDING");
    const slot = { id: created.booking.slotId, providerId: created.booking.providerId, startsAt: "2030-01-01T09:00:00.000Z", endsAt: "2030-01-01T09:30:00.000Z", status: "HELD" as const };
    await live.publish({ bookingEvents: [created], slots: [slot] });
    const text = await metrics.render();
    // One failed publish for the booking event (both of its channels) and one for the slot.
    expect(live.failures).toBe(2);
    expect(sampleValue(text, "pubsub_publish_failures_total")).toBe(2);
    expect(sampleValue(text, "booking_transitions_total", { event_type: "BOOKING_CREATED" })).toBe(1);
  });
});
