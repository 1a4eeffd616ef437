import type { AvailabilityPlan } from "./schedules";
import type { BookingEventType, BookingStatus, ScheduleRules, SlotStatus } from "./operations";

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
  endsAt: string;
}

export interface DemoProvider {
  id: string;
  name: string;
  timeZone: string;
  requiresConfirmation: boolean;
  owner: Account;
  plan: AvailabilityPlan;
  /** The schedule as setSchedule last answered it (schedule providers). */
  schedule?: ScheduleRules;
  /** The coming week's slots as availableSlots listed them after setup. */
  weekSlots: DemoSlot[];
  /** The subset of weekSlots the demo books: far enough ahead that no reminder falls due during the run. */
  slots: DemoSlot[];
  /** Every slot the demo learned of (generated, added or withdrawn), by id: what a slot listener may hear about. */
  knownSlots: Map<string, DemoSlot>;
  /**
   * Slots a schedule generated that availableSlots hides because they start within the
   * minimum notice: a slot listener hears of them, the demo cannot list them. Keys of every
   * slot any published schedule yields (see slotKey), and the instant before which such a
   * hidden slot may start.
   */
  gridKeys: Set<string>;
  hiddenBefore: number;
}

/** One booking as the demo knows it from its own mutations' answers. */
export interface BookingRecord {
  id: string;
  providerId: string;
  slotId: string;
  /** The slot createBooking took (slotId moves with a reschedule). */
  firstSlotId: string;
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

/** One successful rescheduleBooking. */
export interface RescheduleRecord {
  bookingId: string;
  providerId: string;
  fromSlot: DemoSlot;
  toSlot: DemoSlot;
  before: BookingStatus;
  after: BookingStatus;
  /** Won a race against other reschedules to the same slot. */
  raced: boolean;
}

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
  readonly reschedules: RescheduleRecord[] = [];
  readonly rescheduleAttempts = { single: 0, racing: 0 };
  readonly rescheduleConflicts = { single: 0, racing: 0 };
  /** Target slots of reschedule races, each with the number of racers. */
  readonly rescheduleRaces: { slot: DemoSlot; racers: number }[] = [];
  /** Generated slots a later setSchedule withdrew (their last event says BLOCKED). */
  readonly withdrawn = new Set<string>();
  /** Anything that is not an expected outcome; a non-empty list fails the demo. */
  readonly failures: string[] = [];

  slotsCreated(slots: readonly DemoSlot[]): void {
    for (const s of slots) this.slotEvents.set(s.id, 1);
  }

  /** Slots a setSchedule took off sale: one more event each, and BLOCKED from then on. */
  slotsWithdrawn(slots: readonly DemoSlot[]): void {
    for (const s of slots) {
      this.withdrawn.add(s.id);
      this.bumpSlot(s.id);
    }
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
    const record: BookingRecord = { ...b, firstSlotId: b.slotId, popular, events, statuses: events.map((e) => statusAfter(e)!) };
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

  /**
   * A successful rescheduleBooking: one BOOKING_RESCHEDULED event carrying the status the
   * server answered (PENDING again where the provider confirms by hand), the target slot
   * claimed and the old one released.
   */
  rescheduled(id: string, fromSlot: DemoSlot, toSlot: DemoSlot, status: BookingStatus, raced: boolean): void {
    const record = this.bookings.get(id);
    if (!record) throw new Error(`reschedule of a booking the demo did not create: ${id}`);
    this.reschedules.push({ bookingId: id, providerId: record.providerId, fromSlot, toSlot, before: record.status, after: status, raced });
    record.slotId = toSlot.id;
    record.status = status;
    record.events.push("BOOKING_RESCHEDULED");
    record.statuses.push(status);
    this.bumpSlot(fromSlot.id);
    this.bumpSlot(toSlot.id);
  }

  fail(message: string): void {
    this.failures.push(message);
  }

  bookingsOf(providerId: string): BookingRecord[] {
    return [...this.bookings.values()].filter((b) => b.providerId === providerId);
  }

  /** What a slot's status must be now, given the bookings the demo made on it. */
  expectedSlotStatus(slotId: string): SlotStatus {
    if (this.withdrawn.has(slotId)) return "BLOCKED";
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
