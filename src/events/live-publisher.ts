import type { Logger } from "pino";
import type { BookingEventEnvelope } from "./envelope";
import { ALL_SESSIONS, type BookingEventMessage, type LivePubSub, type SessionRevocationMessage, type SlotSnapshot } from "./pubsub";

/** What one committed use-case tells live subscribers. */
export interface LiveChanges {
  /** Booking events in commit order. */
  bookingEvents: BookingEventMessage[];
  /** Slots whose status (or existence) changed. */
  slots: SlotSnapshot[];
}

/** Optional observers (metrics). */
export interface LivePublisherHooks {
  /** Once per committed booking event, whether or not the live publish then succeeds. */
  onBookingEvent?(event: BookingEventEnvelope): void;
  /** Once per failed publish. */
  onPublishFailure?(): void;
}

/**
 * Fans committed changes out to live subscribers. Called only after the transaction
 * commits, so subscribers never hear of state that was rolled back. A transport
 * failure (Redis down) is logged and swallowed: the mutation already succeeded and
 * the outbox holds the durable copy of every event for SQS.
 */
export class LivePublisher {
  /** Count of failed publishes since start, for `/metrics` and tests. */
  failures = 0;
  private readonly commitListeners: (() => void)[] = [];

  constructor(
    private readonly pubSub: LivePubSub,
    private readonly log: Logger,
    private readonly hooks: LivePublisherHooks = {},
  ) {}

  /**
   * Registers `listener` to run after every commit that wrote outbox rows (e.g. wake the outbox
   * relay and the webhook delivery worker). Slot-only changes do not run it: they write no row.
   */
  onCommit(listener: () => void): void {
    this.commitListeners.push(listener);
  }

  /**
   * Runs the {@link onCommit} listeners. Called by the unit of work (src/services/unit-of-work.ts)
   * after a transaction that wrote outbox rows has committed, and by nothing else.
   */
  outboxCommitted(): void {
    for (const listener of this.commitListeners) listener();
  }

  /**
   * Publishes one commit's changes to live subscribers. Called by the unit of work after commit,
   * and by nothing else. Never throws: failures are logged and counted.
   */
  async publish(changes: LiveChanges): Promise<void> {
    // Every committed booking event passes through here exactly once (only after commit, so a
    // rolled-back change is never counted): the one place that sees them all.
    for (const message of changes.bookingEvents) this.hooks.onBookingEvent?.(message.event);
    // Every publish is issued before any is awaited: each one is queued synchronously on the one
    // publisher connection (or the in-process bus), which delivers in issue order, so a booking's
    // events still arrive in commit order on every channel, and with Redis auto-pipelining one
    // commit's publishes leave in one write instead of one round trip each.
    await Promise.all([
      // One attempt per event, covering both of its channels: a failure counts once per event.
      ...changes.bookingEvents.map((message) =>
        this.attempt(() =>
          Promise.all([
            this.pubSub.publishTopic("BOOKING_EVENTS", message.booking.id, message),
            this.pubSub.publishTopic("PROVIDER_BOOKING_EVENTS", message.booking.providerId, message),
          ]),
        ),
      ),
      ...changes.slots.map((slot) => this.attempt(() => this.pubSub.publishTopic("SLOT_EVENTS", slot.providerId, { slot }))),
    ]);
  }

  /**
   * Tells every instance (through Redis when configured) that these sessions ended, so each
   * closes the sockets they authenticated. Call after the revocation committed. A transport
   * failure is logged and swallowed: every later operation on such a socket re-checks its session.
   */
  async publishRevocation(message: SessionRevocationMessage): Promise<void> {
    if (message.sessionIds.length === 0 && message.userIds.length === 0) return;
    await this.attempt(() => this.pubSub.publishTopic("SESSION_REVOCATIONS", ALL_SESSIONS, message), "session revocation");
  }

  private async attempt(fn: () => Promise<unknown>, what?: string): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.failures++;
      this.hooks.onPublishFailure?.();
      if (what) this.log.warn({ err }, `live publish of a ${what} failed; open sockets learn of it at their next operation`);
      else this.log.warn({ err }, "live publish failed; subscribers miss this event (the outbox keeps it)");
    }
  }
}
