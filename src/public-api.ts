/**
 * What Slotwise publishes for SQS consumer authors (package `main`/`types`): the event envelope
 * as a TypeScript type and as the zod schema the API itself validates with, the event types and
 * statuses, and the queue names. The JSON Schema of the same envelope is
 * `docs/events/booking-event.schema.json`; `docs/events.md` describes the contract.
 */
export { bookingEventEnvelopeSchema, type BookingEventEnvelope } from "./events/envelope";
export { BOOKING_EVENT_TYPES, BOOKING_STATUSES, type BookingEventType, type BookingStatus } from "./domain/enums";
export { QUEUE_NAMES, type QueueKey } from "./events/queue-setup";
