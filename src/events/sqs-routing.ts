import type { MessageAttributeValue, SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import type { BookingEventEnvelope } from "./envelope";

/** Queue URLs by role; a role left undefined receives nothing. */
export interface QueueRoutes {
  /** Receives BOOKING_CREATED. */
  bookingRequest?: string;
  /** Receives BOOKING_CONFIRMED. */
  bookingConfirmation?: string;
  /** Receives every event. */
  bookingEvents?: string;
}

/** SendMessageBatch takes at most 10 entries (AWS SQS API reference, SendMessageBatch). */
export const SQS_MAX_BATCH_ENTRIES = 10;

/**
 * The queues an event goes to (DESIGN.md "Environment"): BOOKING_CREATED to the request
 * queue, BOOKING_CONFIRMED to the confirmation queue, every event to the events queue.
 */
export function queuesFor(eventType: BookingEventEnvelope["eventType"], routes: QueueRoutes): string[] {
  const targets: (string | undefined)[] = [routes.bookingEvents];
  if (eventType === "BOOKING_CREATED") targets.unshift(routes.bookingRequest);
  if (eventType === "BOOKING_CONFIRMED") targets.unshift(routes.bookingConfirmation);
  return [...new Set(targets.filter((t): t is string => Boolean(t)))];
}

/** A queue URL ending in `.fifo` is a FIFO queue (AWS: FIFO queue names must end in `.fifo`). */
export function isFifoQueue(queueUrl: string): boolean {
  return queueUrl.endsWith(".fifo");
}

const stringAttr = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });

// SQS accepts only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF in a body
// (AWS SQS API reference, SendMessage "MessageBody"); fauxqs (1.9 and 2.4) also refuses the astral planes.
// JSON can escape anything else, and JSON.parse gives back the identical string.
const OUTSIDE_SQS_SAFE = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/g;

/** JSON text of `value` that SQS accepts as a message body, whatever characters its strings hold. */
export function toSqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(OUTSIDE_SQS_SAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * One SendMessageBatch entry for an event. Attributes `eventType`, `bookingId`,
 * `providerId` let consumers filter without parsing the body. On a FIFO queue the booking
 * is the message group (per-booking order) and the event id the deduplication id.
 *
 * @param entryId - batch-unique id (alphanumeric, `-`, `_`, at most 80 characters)
 */
export function toBatchEntry(entryId: string, event: BookingEventEnvelope, queueUrl: string): SendMessageBatchRequestEntry {
  return {
    Id: entryId,
    MessageBody: toSqsSafeJson(event),
    MessageAttributes: {
      eventType: stringAttr(event.eventType),
      bookingId: stringAttr(event.bookingId),
      providerId: stringAttr(event.providerId),
    },
    ...(isFifoQueue(queueUrl) ? { MessageGroupId: event.bookingId, MessageDeduplicationId: event.eventId } : {}),
  };
}
