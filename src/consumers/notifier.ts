import type { DbOrTx } from "../db/client";
import type { Logger } from "../logger";
import type { BookingEventEnvelope } from "../events/envelope";
import type { NotificationRecipient } from "./notification-catalog";

export type { NotificationRecipient } from "./notification-catalog";

/** What a consumer asks its notifier to deliver; all instants are ISO-8601 UTC. */
export interface Notification {
  recipient: NotificationRecipient;
  eventType: BookingEventEnvelope["eventType"];
  bookingId: string;
  providerId: string;
  /** The booking's customer. */
  userId: string;
  slotStart: string;
  slotEnd: string;
  status: BookingEventEnvelope["status"];
  reason: string | null;
  /** The event that caused the notification; lets a downstream channel deduplicate too. */
  eventId: string;
}

/** What a notifier may use besides the notification itself. */
export interface NotifyContext {
  /** The whole event the notification is about. */
  event: BookingEventEnvelope;
  /**
   * The consumer's transaction (the one holding the processed-event marker): read what the
   * message needs (addresses, history) through it, never through another connection, which on
   * PGlite would wait for this transaction forever.
   */
  db: DbOrTx;
}

/**
 * Delivers notifications (e-mail, push, ... behind this seam).
 * A rejected promise means "not delivered": the consumer leaves the message on the queue so
 * SQS redelivers it.
 */
export interface Notifier {
  notify(notification: Notification, ctx: NotifyContext): Promise<void>;
}

/** Builds the notification a consumer sends for an event. */
export function notificationFor(recipient: NotificationRecipient, event: BookingEventEnvelope): Notification {
  return {
    recipient,
    eventType: event.eventType,
    bookingId: event.bookingId,
    providerId: event.providerId,
    userId: event.userId,
    slotStart: event.slotStart,
    slotEnd: event.slotEnd,
    status: event.status,
    reason: event.reason,
    eventId: event.eventId,
  };
}

/** The default notifier: one structured log line per notification. */
export class LogNotifier implements Notifier {
  constructor(private readonly log: Logger) {}

  async notify(notification: Notification): Promise<void> {
    this.log.info({ notification }, `notify ${notification.recipient}: ${notification.eventType} for booking ${notification.bookingId}`);
  }
}
