import { isSlotConflict, mapLimit, request } from "./graphql";
import type { BookingRecord, DemoProvider, DemoSlot } from "./ledger";
import { ACCEPT_BOOKING, RESCHEDULE_BOOKING, type AcceptBookingData, type RescheduleBookingData } from "./operations";
import type { ScenarioContext } from "./scenario-actions";

export interface ReschedulePlan {
  /** Bookings moved one by one, each to its own free slot. */
  single: number;
  /** Races: several customers of one provider move their bookings to the same free slot at once. */
  races: number;
  racersPerRace: number;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const isActive = (b: BookingRecord) => b.status === "PENDING" || b.status === "CONFIRMED";

/**
 * Customers move bookings to another free slot of the same provider: a few reschedule races
 * (all racers' requests leave in the same tick; exactly one may win, the others must lose
 * with CONFLICT / SLOT_UNAVAILABLE and keep their booking as it was), then single
 * reschedules to distinct free slots, which must all succeed. Bookings that have a customer
 * listener are preferred, so those listeners hear a BOOKING_RESCHEDULED too. Afterwards each
 * owner who requires confirmation accepts the new time of bookings that were CONFIRMED before.
 */
export async function customersReschedule(ctx: ScenarioContext, plan: ReschedulePlan, followed: ReadonlySet<string>): Promise<void> {
  const { url, ledger, rng } = ctx;
  const providerById = new Map(ctx.providers.map((p) => [p.id, p]));
  const customerById = new Map(ctx.customers.map((c) => [c.id, c]));
  const reserved = new Set<string>();
  const freeSlots = (p: DemoProvider) => p.slots.filter((s) => !reserved.has(s.id) && ledger.expectedSlotStatus(s.id) === "AVAILABLE");
  const takeFreeSlot = (p: DemoProvider): DemoSlot | undefined => {
    const free = freeSlots(p);
    if (free.length === 0) return undefined;
    const slot = rng.pick(free);
    reserved.add(slot.id);
    return slot;
  };
  const used = new Set<string>();

  const attempt = async (b: BookingRecord, target: DemoSlot, raced: boolean): Promise<void> => {
    const p = providerById.get(b.providerId)!;
    const customer = customerById.get(b.customerId)!;
    const fromSlot = p.knownSlots.get(b.slotId);
    const before = b.status;
    ledger.rescheduleAttempts[raced ? "racing" : "single"]++;
    try {
      const { rescheduleBooking: r } = await request<RescheduleBookingData>(url, RESCHEDULE_BOOKING, { id: b.id, slotId: target.id }, customer.token);
      const expected = p.requiresConfirmation ? "PENDING" : "CONFIRMED";
      if (r.id !== b.id || r.status !== expected || r.slot.id !== target.id || (r.status === "PENDING") !== (r.holdExpiresAt !== null)) {
        ledger.fail(`rescheduleBooking ${b.id} (was ${before}) answered ${JSON.stringify(r)}; expected ${expected} on slot ${target.id}`);
      }
      if (!fromSlot) throw new Error(`booking ${b.id} sits on slot ${b.slotId}, which the demo does not know`);
      ledger.rescheduled(b.id, fromSlot, target, r.status, raced);
    } catch (err) {
      if (raced && isSlotConflict(err)) ledger.rescheduleConflicts.racing++;
      else ledger.fail(`rescheduleBooking ${b.id} to slot ${target.id} by ${customer.email}: ${message(err)}`);
    }
  };

  // Races, on providers with enough active bookings of distinct customers.
  const raceBursts: Promise<void>[] = [];
  for (const p of rng.shuffle(ctx.providers)) {
    if (ledger.rescheduleRaces.length >= plan.races) break;
    const byCustomer = new Map<string, BookingRecord>();
    for (const b of rng.shuffle(ledger.bookingsOf(p.id).filter(isActive))) if (!byCustomer.has(b.customerId)) byCustomer.set(b.customerId, b);
    if (byCustomer.size < plan.racersPerRace) continue;
    const target = takeFreeSlot(p);
    if (!target) continue;
    const racers = [...byCustomer.values()].slice(0, plan.racersPerRace);
    ledger.rescheduleRaces.push({ slot: target, racers: racers.length });
    for (const b of racers) used.add(b.id);
    // Sent in one synchronous loop so the racers' requests leave in the same tick.
    for (const b of racers) raceBursts.push(attempt(b, target, true));
  }
  await Promise.all(raceBursts);
  if (ledger.rescheduleRaces.length < plan.races) ledger.fail(`only ${ledger.rescheduleRaces.length} of ${plan.races} reschedule races could be set up`);

  // Single reschedules: followed bookings first (half of them), then any active booking.
  const candidates = [...ledger.bookings.values()].filter((b) => isActive(b) && !used.has(b.id));
  const fromFollowed = rng.shuffle(candidates.filter((b) => followed.has(b.id))).slice(0, Math.ceil(plan.single / 2));
  const rest = rng.shuffle(candidates.filter((b) => !fromFollowed.includes(b)));
  const moves: { b: BookingRecord; target: DemoSlot }[] = [];
  for (const b of [...fromFollowed, ...rest]) {
    if (moves.length >= plan.single) break;
    const target = takeFreeSlot(providerById.get(b.providerId)!);
    if (target) moves.push({ b, target });
  }
  if (moves.length < plan.single) ledger.fail(`only ${moves.length} of ${plan.single} single reschedules found a free slot`);
  await mapLimit(moves, 10, ({ b, target }) => attempt(b, target, false));

  // A booking that was CONFIRMED and went back to PENDING waits for its owner to accept the new time.
  const reconfirm = ledger.reschedules.filter((r) => r.before === "CONFIRMED" && r.after === "PENDING");
  await mapLimit(reconfirm, 5, async (r) => {
    const p = providerById.get(r.providerId)!;
    try {
      const { acceptBooking } = await request<AcceptBookingData>(url, ACCEPT_BOOKING, { id: r.bookingId }, p.owner.token);
      ledger.transitioned(r.bookingId, "BOOKING_CONFIRMED", acceptBooking.status);
    } catch (err) {
      ledger.fail(`acceptBooking of rescheduled ${r.bookingId} by the owner of ${p.name}: ${message(err)}`);
    }
  });
}

/** Each reschedule race must have exactly one winner; every other racer lost with a conflict. */
export function checkRescheduleRaces(ctx: Pick<ScenarioContext, "ledger">): string[] {
  const { ledger } = ctx;
  const problems: string[] = [];
  for (const race of ledger.rescheduleRaces) {
    const winners = ledger.reschedules.filter((r) => r.raced && r.toSlot.id === race.slot.id).length;
    if (winners !== 1) problems.push(`reschedule race for slot ${race.slot.id}: ${winners} winners of ${race.racers}, expected exactly 1`);
  }
  const racers = ledger.rescheduleRaces.reduce((n, r) => n + r.racers, 0);
  if (ledger.rescheduleConflicts.racing !== racers - ledger.rescheduleRaces.length) {
    problems.push(`reschedule races: ${ledger.rescheduleConflicts.racing} conflicts for ${racers} racers on ${ledger.rescheduleRaces.length} slots`);
  }
  return problems;
}
