import type { BookingEventType, BookingStatus, SlotStatus } from "./operations";

/** A user the demo registered, with the token it acts with. */
export interface Account {
  id: string;
  email: string;
  name: string;
  token: string;
}

export interface DemoSlot {
  id: string;
  providerId: string;
  startsAt: string;
}

export interface DemoProvider {
  id: string;
  name: string;
  timeZone: string;
  requiresConfirmation: boolean;
  owner: Account;
  slots: DemoSlot[];
}

/** One booking as the demo knows it from its own mutations' answers. */
export interface BookingRecord {
  id: string;
  providerId: string;
  slotId: string;
  customerId: string;
  popular: boolean;
  status: BookingStatus;
  /** Every event the booking's mutations imply, in order. */
  events: BookingEventType[];
  /** Status after each event, in order (what `history` must show). */
  statuses: BookingStatus[];
}

const STATUS_AFTER: Partial<Record<BookingEventType, BookingStatus>> = {
  BOOKING_CREATED: "PENDING",
  BOOKING_CONFIRMED: "CONFIRMED",
  BOOKING_REJECTED: "REJECTED",
  BOOKING_CANCELLED: "CANCELLED",
  BOOKING_EXPIRED: "EXPIRED",
};

/** The status a booking has right after an event of this type. */
export function statusAfter(eventType: BookingEventType): BookingStatus | undefined {
  return STATUS_AFTER[eventType];
}

/**
 * The demo's own record of what it did, built only from the answers to its mutations.
 * Expectations for the listeners and for the server's final state are derived from it.
 */
export class Ledger {
  readonly bookings = new Map<string, BookingRecord>();
  /** Slot events the slot listener is entitled to, per slot id (creation counts as one). */
  readonly slotEvents = new Map<string, number>();
  readonly attempts = { popular: 0, other: 0 };
  readonly conflicts = { popular: 0, other: 0 };
  readonly actions = { accepted: 0, rejected: 0, cancelled: 0 };
  /** Anything that is not an expected outcome; a non-empty list fails the demo. */
  readonly failures: string[] = [];

  slotsCreated(slots: readonly DemoSlot[]): void {
    for (const s of slots) this.slotEvents.set(s.id, 1);
  }

  attempted(popular: boolean): void {
    this.attempts[popular ? "popular" : "other"]++;
  }

  conflictLost(popular: boolean): void {
    this.conflicts[popular ? "popular" : "other"]++;
  }

  /** A successful createBooking; an auto-confirmed booking carries two events. */
  created(b: { id: string; providerId: string; slotId: string; customerId: string; status: BookingStatus }, popular: boolean): BookingRecord {
    const events: BookingEventType[] = b.status === "CONFIRMED" ? ["BOOKING_CREATED", "BOOKING_CONFIRMED"] : ["BOOKING_CREATED"];
    const record: BookingRecord = { ...b, popular, events, statuses: events.map((e) => statusAfter(e)!) };
    this.bookings.set(b.id, record);
    this.bumpSlot(b.slotId);
    return record;
  }

  /** A successful accept, reject or cancel, with the status the server answered. */
  transitioned(id: string, eventType: BookingEventType, status: BookingStatus): void {
    const record = this.bookings.get(id);
    if (!record) throw new Error(`transition of a booking the demo did not create: ${id}`);
    const expected = statusAfter(eventType);
    if (status !== expected) this.failures.push(`${eventType} on ${id} answered status ${status}, expected ${expected}`);
    record.status = status;
    record.events.push(eventType);
    record.statuses.push(status);
    this.bumpSlot(record.slotId);
    if (eventType === "BOOKING_CONFIRMED") this.actions.accepted++;
    if (eventType === "BOOKING_REJECTED") this.actions.rejected++;
    if (eventType === "BOOKING_CANCELLED") this.actions.cancelled++;
  }

  fail(message: string): void {
    this.failures.push(message);
  }

  bookingsOf(providerId: string): BookingRecord[] {
    return [...this.bookings.values()].filter((b) => b.providerId === providerId);
  }

  /** What a slot's status must be now, given the bookings the demo made on it. */
  expectedSlotStatus(slotId: string): SlotStatus {
    for (const b of this.bookings.values()) {
      if (b.slotId !== slotId) continue;
      if (b.status === "PENDING") return "HELD";
      if (b.status === "CONFIRMED") return "BOOKED";
    }
    return "AVAILABLE";
  }

  private bumpSlot(slotId: string): void {
    this.slotEvents.set(slotId, (this.slotEvents.get(slotId) ?? 0) + 1);
  }
}
