import { DateTime } from "luxon";
import { WEEK_MS } from "./availability";
import { request } from "./graphql";
import type { DemoProvider, DemoSlot, Ledger } from "./ledger";
import type { Listener, ReceivedEvent } from "./listeners";
import {
  AVAILABLE_SLOTS,
  PROVIDER_BOOKINGS,
  type AvailableSlotsData,
  type BookingEventType,
  type BookingStatus,
  type ProviderBookingsData,
  type ServerBooking,
} from "./operations";
import { slotKey } from "./schedules";

/** How one listener did against what it was entitled to. */
export interface ListenerReport {
  listener: Listener;
  expected: number;
  received: number;
  ok: boolean;
  problems: string[];
}

/** One booking event as the demo expects it: its type and the booking's status right after it. */
export type ExpectedEvent = `${BookingEventType} -> ${BookingStatus}`;

/**
 * The booking events a listener is entitled to, per booking, in order: a provider's owner
 * hears every event of the provider's bookings; a booking's customer hears the events
 * after the moment it subscribed (`entitledFrom` marks where that was).
 */
export function entitledBookingEvents(listener: Listener, ledger: Ledger, entitledFrom: ReadonlyMap<Listener, number>): Map<string, ExpectedEvent[]> {
  const out = new Map<string, ExpectedEvent[]>();
  const pairs = (events: readonly BookingEventType[], statuses: readonly BookingStatus[]) => events.map((e, i): ExpectedEvent => `${e} -> ${statuses[i]!}`);
  if (listener.kind === "providerBookingEvents") {
    for (const b of ledger.bookingsOf(listener.target)) out.set(b.id, pairs(b.events, b.statuses));
  } else if (listener.kind === "bookingStatusChanged") {
    const b = ledger.bookings.get(listener.target);
    const from = entitledFrom.get(listener) ?? 0;
    if (b) out.set(b.id, pairs(b.events.slice(from), b.statuses.slice(from)));
  }
  return out;
}

/** Slot events the slot listener is entitled to: each slot's creation or withdrawal and every claim or release. */
export function entitledSlotEvents(slots: Iterable<DemoSlot>, ledger: Ledger): number {
  let n = 0;
  for (const s of slots) n += ledger.slotEvents.get(s.id) ?? 0;
  return n;
}

export function expectedCount(listener: Listener, ledger: Ledger, entitledFrom: ReadonlyMap<Listener, number>, slotsOf: (providerId: string) => Iterable<DemoSlot>): number {
  if (listener.kind === "slotAvailabilityChanged") return entitledSlotEvents(slotsOf(listener.target), ledger);
  let n = 0;
  for (const events of entitledBookingEvents(listener, ledger, entitledFrom).values()) n += events.length;
  return n;
}

function commonProblems(listener: Listener): string[] {
  const problems = listener.errors.map((e) => `error: ${e}`);
  if (listener.completed) problems.push("the server ended the subscription");
  return problems;
}

/**
 * Compares a booking-event listener's events with its entitlement, booking by booking and in
 * order, each with the status its payload carries (a BOOKING_RESCHEDULED carries PENDING or
 * CONFIRMED depending on the provider).
 */
export function checkBookingListener(listener: Listener, entitled: Map<string, ExpectedEvent[]>): ListenerReport {
  const problems = commonProblems(listener);
  const seen = new Set<string>();
  const received = new Map<string, ExpectedEvent[]>();
  for (const e of listener.events) {
    if (!e.eventId || !e.bookingId || !e.eventType || !e.bookingStatus) {
      problems.push(`incomplete event ${JSON.stringify(e)}`);
      continue;
    }
    if (seen.has(e.eventId)) problems.push(`duplicate event ${e.eventId}`);
    seen.add(e.eventId);
    received.set(e.bookingId, [...(received.get(e.bookingId) ?? []), `${e.eventType} -> ${e.bookingStatus}`]);
  }
  let expected = 0;
  for (const [bookingId, want] of entitled) {
    expected += want.length;
    const got = received.get(bookingId) ?? [];
    if (got.join() !== want.join()) problems.push(`booking ${bookingId}: got [${got.join(", ")}], entitled to [${want.join(", ")}]`);
  }
  for (const bookingId of received.keys()) {
    if (!entitled.has(bookingId)) problems.push(`events for booking ${bookingId}, which it was not entitled to`);
  }
  return { listener, expected, received: listener.events.length, ok: problems.length === 0, problems };
}

/**
 * Compares the slot listener's events with the slot changes the demo caused (setSchedule's
 * generated and withdrawn slots, addAvailability's, every claim and release); the last event
 * per slot must show the slot's status now. A schedule also generates slots inside the
 * minimum notice, which availableSlots rightly hides from the demo: events for such a slot
 * are accepted when it lies on the provider's schedule grid, starts before the notice ends,
 * and was only generated (AVAILABLE), possibly then withdrawn (BLOCKED).
 */
export function checkSlotListener(listener: Listener, provider: DemoProvider, ledger: Ledger): ListenerReport {
  const problems = commonProblems(listener);
  const perSlot = new Map<string, { count: number; last?: string; statuses: string[]; first: ReceivedEvent }>();
  for (const e of listener.events) {
    if (!e.slotId || !e.slotStatus) {
      problems.push(`incomplete event ${JSON.stringify(e)}`);
      continue;
    }
    const entry = perSlot.get(e.slotId) ?? { count: 0, statuses: [], first: e };
    entry.count++;
    entry.last = e.slotStatus;
    entry.statuses.push(e.slotStatus);
    perSlot.set(e.slotId, entry);
  }
  const slots = [...provider.knownSlots.values()];
  const ids = new Set(slots.map((s) => s.id));
  let hidden = 0;
  for (const [id, got] of perSlot) {
    if (ids.has(id)) continue;
    const { slotStartsAt: startsAt, slotEndsAt: endsAt } = got.first;
    const onGrid = startsAt !== undefined && endsAt !== undefined && provider.gridKeys.has(slotKey({ startsAt, endsAt }));
    const inNotice = startsAt !== undefined && Date.parse(startsAt) < provider.hiddenBefore;
    const sequence = got.statuses.join();
    if (onGrid && inNotice && (sequence === "AVAILABLE" || sequence === "AVAILABLE,BLOCKED")) hidden += got.count;
    else problems.push(`events [${sequence}] for slot ${id} (${startsAt ?? "?"}), which is not a slot of ${provider.name} the demo knows or a schedule slot within the minimum notice`);
  }
  for (const s of slots) {
    const want = ledger.slotEvents.get(s.id) ?? 0;
    const got = perSlot.get(s.id);
    if ((got?.count ?? 0) !== want) problems.push(`slot ${s.id}: ${got?.count ?? 0} events, entitled to ${want}`);
    const status = ledger.expectedSlotStatus(s.id);
    if (got && got.last !== status) problems.push(`slot ${s.id}: last event says ${got.last}, the slot is ${status}`);
  }
  return { listener, expected: entitledSlotEvents(slots, ledger) + hidden, received: listener.events.length, ok: problems.length === 0, problems };
}

/** Every booking of a provider, as its owner sees them through providerBookings (all pages). */
export async function fetchProviderBookings(url: string, provider: DemoProvider): Promise<ServerBooking[]> {
  const all: ServerBooking[] = [];
  let after: string | null = null;
  for (;;) {
    const data: ProviderBookingsData = await request<ProviderBookingsData>(url, PROVIDER_BOOKINGS, { providerId: provider.id, first: 100, after }, provider.owner.token);
    all.push(...data.providerBookings.edges.map((e) => e.node));
    if (!data.providerBookings.pageInfo.hasNextPage) return all;
    after = data.providerBookings.pageInfo.endCursor;
    if (!after) throw new Error(`providerBookings of ${provider.name}: hasNextPage without endCursor`);
  }
}

export interface ServerStateReport {
  byStatus: Record<BookingStatus, number>;
  total: number;
  problems: string[];
}

/**
 * Checks the server's bookings against the demo's record: the same bookings, statuses,
 * customers and slots, a history that shows every transition in order, slots whose status
 * follows their bookings, and never two active bookings on one slot.
 */
export function checkServerState(ledger: Ledger, providers: readonly DemoProvider[], server: ReadonlyMap<string, ServerBooking[]>): ServerStateReport {
  const byStatus: Record<BookingStatus, number> = { PENDING: 0, CONFIRMED: 0, REJECTED: 0, CANCELLED: 0, EXPIRED: 0 };
  const problems: string[] = [];
  const activePerSlot = new Map<string, number>();
  let total = 0;
  for (const p of providers) {
    const rows = server.get(p.id) ?? [];
    const ids = new Set(rows.map((r) => r.id));
    if (ids.size !== rows.length) problems.push(`${p.name}: providerBookings lists a booking twice`);
    for (const r of rows) {
      total++;
      byStatus[r.status]++;
      if (r.status === "PENDING" || r.status === "CONFIRMED") activePerSlot.set(r.slot.id, (activePerSlot.get(r.slot.id) ?? 0) + 1);
      const mine = ledger.bookings.get(r.id);
      if (!mine) {
        problems.push(`${p.name}: booking ${r.id} on the server was not made by this demo`);
        continue;
      }
      if (mine.providerId !== p.id) problems.push(`booking ${r.id} listed under ${p.name}, made with another provider`);
      if (r.status !== mine.status) problems.push(`booking ${r.id}: server says ${r.status}, the demo's mutations ended at ${mine.status}`);
      if (r.customer.id !== mine.customerId || r.slot.id !== mine.slotId) problems.push(`booking ${r.id}: customer or slot differs from createBooking's answer`);
      const history = r.history.map((h) => h.toStatus).join();
      if (history !== mine.statuses.join()) problems.push(`booking ${r.id}: history [${history}], expected [${mine.statuses.join()}]`);
      const slotStatus = ledger.expectedSlotStatus(r.slot.id);
      if (r.slot.status !== slotStatus) problems.push(`slot ${r.slot.id}: server says ${r.slot.status}, expected ${slotStatus}`);
    }
    for (const b of ledger.bookingsOf(p.id)) if (!ids.has(b.id)) problems.push(`${p.name}: booking ${b.id} missing from providerBookings`);
  }
  for (const [slotId, n] of activePerSlot) if (n > 1) problems.push(`slot ${slotId} has ${n} active bookings (double booking)`);
  return { byStatus, total, problems };
}

/** Each popular slot must have exactly one winner; everyone else lost with a conflict. */
export function checkRaces(ledger: Ledger, popular: readonly DemoSlot[]): string[] {
  const problems: string[] = [];
  for (const s of popular) {
    const winners = [...ledger.bookings.values()].filter((b) => b.firstSlotId === s.id).length;
    if (winners !== 1) problems.push(`popular slot ${s.id} has ${winners} successful bookings, expected exactly 1`);
  }
  if (ledger.conflicts.popular !== ledger.attempts.popular - popular.length) {
    problems.push(`popular slots: ${ledger.conflicts.popular} conflicts for ${ledger.attempts.popular} attempts on ${popular.length} slots`);
  }
  return problems;
}

/**
 * Reads the coming week's availableSlots of every provider once more and compares it with
 * the demo's record: a slot of the week's list is listed again exactly when nothing the demo
 * did holds it now (cancelled, rejected and rescheduled-away bookings released theirs), and
 * nothing appears that was not listed before. Slots that have meanwhile slipped into the
 * minimum notice are left out of the comparison.
 */
export async function checkFinalAvailability(url: string, providers: readonly DemoProvider[], ledger: Ledger): Promise<string[]> {
  const problems: string[] = [];
  for (const p of providers) {
    const t0 = Date.now();
    const data = await request<AvailableSlotsData>(url, AVAILABLE_SLOTS, { providerId: p.id, from: new Date(t0).toISOString(), to: new Date(t0 + WEEK_MS).toISOString() });
    const t1 = Date.now();
    const notice = (p.schedule?.minimumNoticeMinutes ?? 0) * 60_000;
    const listed = new Set(data.availableSlots.map((s) => s.id));
    const week = new Map(p.weekSlots.map((s) => [s.id, s]));
    const weekEnd = Math.max(...p.weekSlots.map((s) => Date.parse(s.startsAt)), 0);
    const local = (s: { startsAt: string }) => DateTime.fromISO(s.startsAt, { zone: p.timeZone }).toFormat("ccc HH:mm");
    for (const s of p.weekSlots) {
      if (Date.parse(s.startsAt) <= t1 + notice) continue;
      const free = ledger.expectedSlotStatus(s.id) === "AVAILABLE";
      if (free !== listed.has(s.id)) problems.push(`${p.name}: slot ${s.id} (${local(s)} local) is ${listed.has(s.id) ? "" : "not "}listed as available, expected ${ledger.expectedSlotStatus(s.id)}`);
    }
    for (const s of data.availableSlots) {
      if (!week.has(s.id) && Date.parse(s.startsAt) <= weekEnd) problems.push(`${p.name}: slot ${s.id} (${local(s)} local) is available now but was not at setup`);
    }
  }
  return problems;
}
