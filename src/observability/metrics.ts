import type { Logger } from "pino";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { DbOrTx } from "../db/client";
import { readOutboxBacklog } from "../db/repositories/outbox.repository";
import { BOOKING_EVENT_TYPES, type BookingEventType } from "../domain/booking-lifecycle";
import type { LivePublisherHooks } from "../events/live-publisher";

/** How a GraphQL operation ended: `error` when its response carried any error. */
export type OperationOutcome = "ok" | "error";

export interface MetricsOptions {
  /** Database whose outbox backlog is read on every scrape; without it the outbox gauges stay 0. */
  db?: DbOrTx;
  /** Wall clock for the outbox age. Outbox rows are stamped by the database's `now()`, so this must be real time, not a test clock. */
  now?: () => Date;
  /** Where a failed backlog read is reported. */
  log?: Logger;
  /** prom-client's process metrics (CPU, memory, event loop, GC). Default true. */
  defaultMetrics?: boolean;
  /** Distinct operation names kept as label values; later ones are counted as `other`. Default 200. */
  maxOperationNames?: number;
}

// A GraphQL name, kept short: anything else is not a name a client's document could carry.
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/**
 * Slotwise's Prometheus metrics, on a registry of their own (not prom-client's global one),
 * so several servers in one process (tests) never clash over metric names.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<"operation" | "outcome">;
  readonly wsConnections: Gauge;
  readonly wsSubscriptions: Gauge;
  readonly bookingTransitions: Counter<"event_type">;
  readonly outboxBacklog: Gauge;
  readonly outboxOldestAge: Gauge;
  readonly relaySendFailures: Counter;
  readonly pubsubPublishFailures: Counter;

  private readonly operationNames = new Set<string>();
  private readonly maxOperationNames: number;
  private backlogRead?: Promise<void>;

  constructor(private readonly opts: MetricsOptions = {}) {
    const registers = [this.registry];
    this.maxOperationNames = opts.maxOperationNames ?? 200;
    this.requestDuration = new Histogram({
      name: "graphql_request_duration_seconds",
      help: "Time to answer one GraphQL query or mutation (HTTP and graphql-ws), by operation name and outcome.",
      labelNames: ["operation", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.wsConnections = new Gauge({
      name: "graphql_ws_connections",
      help: "Open graphql-ws connections that passed connection_init.",
      registers,
    });
    this.wsSubscriptions = new Gauge({
      name: "graphql_ws_subscriptions",
      help: "Active graphql-ws subscriptions (streams being delivered).",
      registers,
    });
    this.bookingTransitions = new Counter({
      name: "booking_transitions_total",
      help: "Committed booking status changes, by event type (reminders are not transitions and are not counted).",
      labelNames: ["event_type"],
      registers,
    });
    // Every type shows from the first scrape, so rate() and absence alerts work before the first change.
    for (const type of BOOKING_EVENT_TYPES) if (isTransition(type)) this.bookingTransitions.inc({ event_type: type }, 0);

    const refreshBacklog = () => this.refreshBacklog();
    this.outboxBacklog = new Gauge({
      name: "outbox_backlog_events",
      help: "Outbox events not yet published to every queue they route to (all instances).",
      registers,
      collect: refreshBacklog,
    });
    this.outboxOldestAge = new Gauge({
      name: "outbox_oldest_age_seconds",
      help: "Age of the oldest unpublished outbox event, in seconds; 0 when the backlog is empty.",
      registers,
      collect: refreshBacklog,
    });
    this.relaySendFailures = new Counter({
      name: "outbox_relay_send_failures_total",
      help: "Event deliveries (one event to one queue) the outbox relay could not complete in a round; the event is retried.",
      registers,
    });
    this.pubsubPublishFailures = new Counter({
      name: "pubsub_publish_failures_total",
      help: "Live pub/sub publishes that failed (subscribers missed the update; the outbox still has the event).",
      registers,
    });
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** `Content-Type` of {@link render}'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Prometheus text exposition of every metric; reads the outbox backlog first. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Records one finished query or mutation. */
  observeOperation(operationName: string | null | undefined, outcome: OperationOutcome, seconds: number): void {
    this.requestDuration.observe({ operation: this.operationLabel(operationName), outcome }, seconds);
  }

  /**
   * The label value for an operation name: `anonymous` when there is none, `other` once
   * {@link MetricsOptions.maxOperationNames} names are in use or for a name that is not a
   * GraphQL name. Clients choose operation names, so the label set must not grow without bound.
   */
  operationLabel(operationName: string | null | undefined): string {
    if (!operationName) return "anonymous";
    if (!OPERATION_NAME.test(operationName)) return "other";
    if (this.operationNames.has(operationName)) return operationName;
    if (this.operationNames.size >= this.maxOperationNames) return "other";
    this.operationNames.add(operationName);
    return operationName;
  }

  /** Counts one committed booking event; reminders are ignored (they change no status). */
  bookingEventCommitted(eventType: BookingEventType): void {
    if (isTransition(eventType)) this.bookingTransitions.inc({ event_type: eventType });
  }

  relaySendFailed(count = 1): void {
    if (count > 0) this.relaySendFailures.inc(count);
  }

  pubsubPublishFailed(): void {
    this.pubsubPublishFailures.inc();
  }

  /** Hooks for `new LivePublisher(pubSub, log, hooks)`: booking transitions and publish failures. */
  livePublisherHooks(): LivePublisherHooks {
    return {
      onBookingEvent: (event) => this.bookingEventCommitted(event.eventType),
      onPublishFailure: () => this.pubsubPublishFailed(),
    };
  }

  // Both outbox gauges collect on the same scrape: one shared read answers them both.
  private refreshBacklog(): Promise<void> {
    this.backlogRead ??= this.readBacklog().finally(() => {
      this.backlogRead = undefined;
    });
    return this.backlogRead;
  }

  private async readBacklog(): Promise<void> {
    const db = this.opts.db;
    if (!db) return;
    try {
      const backlog = await readOutboxBacklog(db);
      const now = (this.opts.now ?? (() => new Date()))().getTime();
      this.outboxBacklog.set(backlog.pending);
      this.outboxOldestAge.set(backlog.oldestCreatedAt ? Math.max(0, (now - backlog.oldestCreatedAt.getTime()) / 1000) : 0);
    } catch (err) {
      // A scrape must still return the other metrics; NaN says "unknown" rather than a stale figure.
      this.opts.log?.warn({ err }, "metrics: reading the outbox backlog failed");
      this.outboxBacklog.set(Number.NaN);
      this.outboxOldestAge.set(Number.NaN);
    }
  }
}

function isTransition(eventType: BookingEventType): boolean {
  return eventType !== "BOOKING_REMINDER";
}
