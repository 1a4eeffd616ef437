import { randomUUID } from "node:crypto";
import { z } from "zod";
import { BOOKING_EVENT_TYPES, BOOKING_STATUSES } from "../domain/booking-lifecycle";
import { REQUEST_ID_PATTERN, isValidRequestId } from "../domain/request-id";

const isoUtc = z.iso.datetime({ offset: false });

/**
 * The booking event envelope: the body of every SQS message and the core of every
 * subscription payload (DESIGN.md "Events"). Field names are kept from the older REST
 * booking service so its consumers keep working. Version 1.
 */
export const bookingEventEnvelopeSchema = z.object({
  /** Dedup key; consumers must be idempotent on it. */
  eventId: z.uuid(),
  eventType: z.enum(BOOKING_EVENT_TYPES),
  version: z.literal(1),
  /** ISO-8601 UTC instant at which the change committed. */
  timestamp: isoUtc,
  bookingId: z.uuid(),
  providerId: z.uuid(),
  slotId: z.uuid(),
  /** The booking's customer. */
  userId: z.uuid(),
  slotStart: isoUtc,
  slotEnd: isoUtc,
  status: z.enum(BOOKING_STATUSES),
  previousStatus: z.enum(BOOKING_STATUSES).nullable(),
  /** User id of whoever caused the change, or `system` for automatic changes. */
  actorId: z.string().min(1),
  reason: z.string().nullable(),
  /** Present on BOOKING_CONFIRMED. */
  acceptedAt: isoUtc.optional(),
  /** Present on BOOKING_RESCHEDULED: the slot the booking moved away from. */
  previousSlotId: z.uuid().optional(),
  previousSlotStart: isoUtc.optional(),
  previousSlotEnd: isoUtc.optional(),
  /** Present on BOOKING_REMINDER: how long before `slotStart` this reminder is, in minutes. */
  reminderOffsetMinutes: z.number().int().positive().optional(),
  /** Id of the API request that caused the change (`x-request-id`); absent on changes made by workers. */
  requestId: z.string().regex(REQUEST_ID_PATTERN).optional(),
});

/** One booking event, as sent to SQS and subscribers. */
export type BookingEventEnvelope = z.infer<typeof bookingEventEnvelopeSchema>;

/** The actor id recorded for changes nobody asked for (expiry, automatic confirmation). */
export const SYSTEM_ACTOR = "system";

/** Fields needed to describe a booking in an event. */
export interface EnvelopeSource {
  booking: { id: string; providerId: string; slotId: string; customerId: string; status: BookingEventEnvelope["status"] };
  slot: { startsAt: Date; endsAt: Date };
}

/**
 * Builds an envelope with a fresh event id.
 * @param at - commit instant (UTC); also `acceptedAt` for BOOKING_CONFIRMED
 * @param actorId - user id, or `null` for the system
 * @param requestId - the API request that caused the change (`x-request-id`); none for workers.
 *   An id the envelope schema would refuse is left out.
 */
export function buildEnvelope(
  eventType: BookingEventEnvelope["eventType"],
  source: EnvelopeSource,
  opts: {
    at: Date;
    previousStatus: BookingEventEnvelope["status"] | null;
    actorId: string | null;
    reason?: string | null;
    requestId?: string;
    /** Extra fields of some event types (previousSlot*, reminderOffsetMinutes). */
    extra?: Pick<BookingEventEnvelope, "previousSlotId" | "previousSlotStart" | "previousSlotEnd" | "reminderOffsetMinutes">;
  },
): BookingEventEnvelope {
  const envelope: BookingEventEnvelope = {
    eventId: randomUUID(),
    eventType,
    version: 1,
    timestamp: opts.at.toISOString(),
    bookingId: source.booking.id,
    providerId: source.booking.providerId,
    slotId: source.booking.slotId,
    userId: source.booking.customerId,
    slotStart: source.slot.startsAt.toISOString(),
    slotEnd: source.slot.endsAt.toISOString(),
    status: source.booking.status,
    previousStatus: opts.previousStatus,
    actorId: opts.actorId ?? SYSTEM_ACTOR,
    reason: opts.reason ?? null,
  };
  if (eventType === "BOOKING_CONFIRMED") envelope.acceptedAt = opts.at.toISOString();
  // Checked again here: an id the schema rejects would turn the event into a poison message.
  if (isValidRequestId(opts.requestId)) envelope.requestId = opts.requestId;
  return { ...envelope, ...opts.extra };
}
