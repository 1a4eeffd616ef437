import type { BookingEventType } from "../domain/booking-lifecycle";
import { bookingTitle } from "../domain/calendar-invite";
import type { BookingEventEnvelope } from "../events/envelope";

/** Who a notification is for: the booking's customer, or the owner of its provider. */
export type NotificationRecipient = "provider" | "customer";

/** What a message about one event says, in the words of its recipient. */
export interface MessageFacts {
  event: BookingEventEnvelope;
  /** What is booked (the provider's one offering: its name, while there are no services). */
  serviceName: string;
  providerName: string;
  /** The person on the other side: the provider's owner for the customer, the customer for the owner. */
  otherParty: { name: string; email: string };
  /** The booking's time in the provider's zone. */
  localTime: string;
  /** The time before a reschedule, in the provider's zone; only on BOOKING_RESCHEDULED. */
  previousLocalTime?: string;
}

/** One entry of the catalog: the subject and opening lines of a message. */
export interface MessageTemplate {
  subject(f: MessageFacts): string;
  /** Paragraphs before the booking's details. */
  lead(f: MessageFacts): string[];
  /** Sent only when this holds (default: always). */
  when?(event: BookingEventEnvelope): boolean;
}

/** The change was made by the booking's customer (not by the provider or the system). */
const byCustomer = (e: BookingEventEnvelope) => e.actorId === e.userId;
const what = (f: MessageFacts) => bookingTitle(f.serviceName, f.providerName);
const because = (f: MessageFacts) => (f.event.reason ? [`Reason given: ${f.event.reason}`] : []);

/**
 * Every message the consumers send, by event type and recipient. A new event type (waitlist
 * offers, say) is one entry here; event types without an entry send nothing, and types this
 * build does not know are acknowledged and skipped by the consumer.
 */
export const NOTIFICATION_CATALOG: Partial<Record<BookingEventType, Partial<Record<NotificationRecipient, MessageTemplate>>>> = {
  BOOKING_CREATED: {
    customer: {
      subject: (f) => `Booking requested: ${what(f)}, ${f.localTime}`,
      lead: (f) => [`Your booking request for ${what(f)} has been received. ${f.providerName} will confirm it; we will let you know.`],
    },
    provider: {
      subject: (f) => `New booking request from ${f.otherParty.name}: ${f.localTime}`,
      lead: (f) => [`${f.otherParty.name} (${f.otherParty.email}) asked to book ${f.serviceName}. Please accept or reject the request.`],
    },
  },
  BOOKING_CONFIRMED: {
    customer: {
      subject: (f) => `Booking confirmed: ${what(f)}, ${f.localTime}`,
      lead: (f) => [`Your booking of ${what(f)} is confirmed.`],
    },
  },
  BOOKING_REJECTED: {
    customer: {
      subject: (f) => `Booking declined: ${what(f)}, ${f.localTime}`,
      lead: (f) => [`${f.providerName} could not accept your booking request.`, ...because(f)],
    },
  },
  BOOKING_CANCELLED: {
    customer: {
      subject: (f) => `Booking cancelled: ${what(f)}, ${f.localTime}`,
      lead: (f) => [byCustomer(f.event) ? `You cancelled your booking of ${what(f)}.` : `Your booking of ${what(f)} was cancelled by ${f.providerName}.`, ...because(f)],
    },
    provider: {
      when: byCustomer,
      subject: (f) => `${f.otherParty.name} cancelled: ${f.localTime}`,
      lead: (f) => [`${f.otherParty.name} (${f.otherParty.email}) cancelled their booking of ${f.serviceName}.`, ...because(f)],
    },
  },
  BOOKING_RESCHEDULED: {
    customer: {
      subject: (f) => `Booking moved: ${what(f)}, now ${f.localTime}`,
      lead: (f) => [
        `Your booking of ${what(f)} has moved from ${f.previousLocalTime ?? "its earlier time"} to ${f.localTime}.`,
        ...(f.event.status === "PENDING" ? [`${f.providerName} will confirm the new time.`] : []),
      ],
    },
    provider: {
      when: byCustomer,
      subject: (f) => `${f.otherParty.name} moved their booking to ${f.localTime}`,
      lead: (f) => [
        `${f.otherParty.name} (${f.otherParty.email}) moved their booking of ${f.serviceName} from ${f.previousLocalTime ?? "its earlier time"} to ${f.localTime}.`,
        ...(f.event.status === "PENDING" ? ["Please accept or reject the new time."] : []),
      ],
    },
  },
  BOOKING_EXPIRED: {
    customer: {
      subject: (f) => `Booking request expired: ${what(f)}, ${f.localTime}`,
      lead: (f) => [`${f.providerName} did not confirm your request in time, so the slot was released.`],
    },
  },
  BOOKING_REMINDER: {
    customer: {
      subject: (f) => `Reminder: ${what(f)}, ${f.localTime}`,
      lead: (f) => [`This is a reminder of your booking of ${what(f)}${f.event.reminderOffsetMinutes ? `, ${inWords(f.event.reminderOffsetMinutes)} from now` : ""}.`],
    },
  },
};

function inWords(minutes: number): string {
  if (minutes % 1440 === 0) return minutes === 1440 ? "one day" : `${minutes / 1440} days`;
  if (minutes % 60 === 0) return minutes === 60 ? "one hour" : `${minutes / 60} hours`;
  return `${minutes} minutes`;
}

/** The template for `recipient` of `event`, if the catalog sends it one. */
export function templateFor(event: BookingEventEnvelope, recipient: NotificationRecipient): MessageTemplate | undefined {
  const template = NOTIFICATION_CATALOG[event.eventType]?.[recipient];
  return template && (template.when?.(event) ?? true) ? template : undefined;
}

/** Event types the catalog has a message for, for `recipient`. */
export function catalogTypes(recipient: NotificationRecipient): BookingEventType[] {
  return (Object.keys(NOTIFICATION_CATALOG) as BookingEventType[]).filter((t) => NOTIFICATION_CATALOG[t]?.[recipient] !== undefined);
}
