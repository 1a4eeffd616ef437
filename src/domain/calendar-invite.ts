import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from "ical-generator";
import { DateTime } from "luxon";
import type { BookingStatus } from "./enums";

/**
 * The one builder of a booking's iCalendar VEVENT (RFC 5545), shared by the e-mail invites
 * (iTIP, RFC 5546) and the calendar feeds, so both describe a booking with the same UID,
 * SEQUENCE and STATUS and a calendar app that sees both keeps one event.
 */

const PRODUCT_ID = { company: "Slotwise", product: "Slotwise", language: "EN" } as const;

/** A person on the invite. */
export interface CalendarPerson {
  name: string;
  email: string;
}

/** What a VEVENT says about one booking. Instants are UTC. */
export interface BookingCalendarEntry {
  bookingId: string;
  status: BookingStatus;
  /**
   * RFC 5545 §3.8.7.4 SEQUENCE: 0 for the booking's first state, one more for every later status
   * change or reschedule (see `findInviteSequence` / `findFeedBookings`).
   */
  sequence: number;
  start: Date;
  end: Date;
  /** The provider's IANA zone, for the local time in the description. */
  timeZone: string;
  /** What is booked: the service's name (the provider's name while there are no services). */
  serviceName: string;
  providerName: string;
  /** The provider's owner; RFC 5546 requires an ORGANIZER on REQUEST and CANCEL. */
  organizer: CalendarPerson;
  /** The customer. */
  attendee: CalendarPerson;
  /** DTSTAMP: when this version of the event was made (the change's commit instant). */
  stamp: Date;
}

/** RFC 5545 `UID` of a booking's event: one per booking for its whole life. */
export function bookingEventUid(bookingId: string): string {
  return `booking-${bookingId}@slotwise`;
}

/** Whether a booking in `status` still takes place (PENDING or CONFIRMED). */
export function isActiveForCalendar(status: BookingStatus): boolean {
  return status === "PENDING" || status === "CONFIRMED";
}

/** RFC 5545 §3.8.1.11 STATUS of a booking's VEVENT: TENTATIVE while pending, CANCELLED once it ended. */
export function calendarStatusOf(status: BookingStatus): ICalEventStatus {
  if (status === "PENDING") return ICalEventStatus.TENTATIVE;
  if (status === "CONFIRMED") return ICalEventStatus.CONFIRMED;
  return ICalEventStatus.CANCELLED;
}

/** The booking's time as people read it: `Tue 6 May 2031, 11:00-11:30 (Europe/Berlin)` and the same in UTC. */
export function describeBookingTime(start: Date, end: Date, timeZone: string): { local: string; utc: string } {
  const fmt = (zone: string) => {
    const s = DateTime.fromJSDate(start, { zone });
    const e = DateTime.fromJSDate(end, { zone });
    return `${s.toFormat("ccc d LLL yyyy, HH:mm")}-${e.toFormat("HH:mm")} (${zone})`;
  };
  return { local: fmt(timeZone), utc: fmt("UTC") };
}

/**
 * What a booking is called in subjects and calendars: `Haircut with North Salon`, or just the
 * provider's name while the service is the provider's one offering under the same name.
 */
export function bookingTitle(serviceName: string, providerName: string): string {
  return serviceName === providerName ? providerName : `${serviceName} with ${providerName}`;
}

function summaryOf(entry: BookingCalendarEntry): string {
  return bookingTitle(entry.serviceName, entry.providerName);
}

function addEvent(cal: ReturnType<typeof ical>, entry: BookingCalendarEntry): void {
  const time = describeBookingTime(entry.start, entry.end, entry.timeZone);
  cal.createEvent({
    id: bookingEventUid(entry.bookingId),
    sequence: entry.sequence,
    stamp: entry.stamp,
    // UTC (RFC 5545 form 2) needs no VTIMEZONE; the provider's local time is in the description.
    start: entry.start,
    end: entry.end,
    summary: summaryOf(entry),
    description: `${summaryOf(entry)}\nCustomer: ${entry.attendee.name}\nTime: ${time.local}\nUTC: ${time.utc}\nStatus: ${entry.status}`,
    status: calendarStatusOf(entry.status),
    organizer: { name: entry.organizer.name, email: entry.organizer.email },
    attendees: [
      {
        name: entry.attendee.name,
        email: entry.attendee.email,
        role: ICalAttendeeRole.REQ,
        status: entry.status === "CONFIRMED" ? ICalAttendeeStatus.ACCEPTED : isActiveForCalendar(entry.status) ? ICalAttendeeStatus.NEEDSACTION : ICalAttendeeStatus.DECLINED,
      },
    ],
  });
}

/**
 * An iTIP (RFC 5546) message for one booking: METHOD:REQUEST while the booking is active (it adds
 * or updates the event), METHOD:CANCEL once it ended (it removes it). Returns the iCalendar text.
 */
export function buildBookingInvite(entry: BookingCalendarEntry): { method: "REQUEST" | "CANCEL"; ics: string } {
  const method = isActiveForCalendar(entry.status) ? ICalCalendarMethod.REQUEST : ICalCalendarMethod.CANCEL;
  const cal = ical({ prodId: PRODUCT_ID, method });
  addEvent(cal, entry);
  return { method: method === ICalCalendarMethod.REQUEST ? "REQUEST" : "CANCEL", ics: cal.toString() };
}

/**
 * A subscribable calendar (RFC 5545, no iTIP method) with one VEVENT per booking in `entries`.
 * @param name - the calendar's display name (X-WR-CALNAME)
 */
export function buildBookingFeed(name: string, entries: readonly BookingCalendarEntry[]): string {
  const cal = ical({ prodId: PRODUCT_ID, name });
  for (const entry of entries) addEvent(cal, entry);
  return cal.toString();
}
