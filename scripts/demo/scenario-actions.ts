import { isSlotConflict, mapLimit, request } from "./graphql";
import type { Account, BookingRecord, DemoProvider, DemoSlot, Ledger } from "./ledger";
import {
  ACCEPT_BOOKING,
  CANCEL_BOOKING,
  CREATE_BOOKING,
  REJECT_BOOKING,
  type AcceptBookingData,
  type CancelBookingData,
  type CreateBookingData,
  type RejectBookingData,
} from "./operations";
import type { Random } from "./random";

export interface ScenarioContext {
  url: string;
  runId: string;
  ledger: Ledger;
  rng: Random;
  providers: readonly DemoProvider[];
  customers: readonly Account[];
}

const REJECT_REASONS = ["Fully booked that day", "Equipment under maintenance", "Practitioner is ill", "Outside the service area"];
const CANCEL_REASONS = ["Plans changed", "Found an earlier appointment", "Feeling better", "Travelling that week"];

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Customers book concurrently. Every racer for a popular slot fires in the same tick, so
 * they really race; meanwhile each customer books 1-2 other slots chosen at random (which
 * may collide too). Losing a race (CONFLICT / SLOT_UNAVAILABLE) is an expected outcome;
 * any other error is recorded as a failure.
 *
 * @param onCreated - called right after each successful createBooking answers
 */
export async function bookingRush(
  ctx: ScenarioContext,
  popular: readonly DemoSlot[],
  racersPerSlot: number,
  onCreated: (record: BookingRecord, customer: Account) => void,
): Promise<void> {
  const { url, runId, ledger, rng, customers } = ctx;
  const providerById = new Map(ctx.providers.map((p) => [p.id, p]));
  const popularIds = new Set(popular.map((s) => s.id));
  const otherSlots = ctx.providers.flatMap((p) => p.slots).filter((s) => !popularIds.has(s.id));

  const attempt = async (customer: Account, slot: DemoSlot, isPopular: boolean): Promise<void> => {
    ledger.attempted(isPopular);
    const provider = providerById.get(slot.providerId)!;
    try {
      const { createBooking: b } = await request<CreateBookingData>(
        url,
        CREATE_BOOKING,
        { input: { slotId: slot.id, idempotencyKey: `${runId}:${customer.id}:${slot.id}` } },
        customer.token,
      );
      const expectedStatus = provider.requiresConfirmation ? "PENDING" : "CONFIRMED";
      if (b.status !== expectedStatus || b.slot.id !== slot.id || b.provider.id !== provider.id || b.customer.id !== customer.id) {
        ledger.fail(`createBooking ${b.id} answered ${JSON.stringify(b)}; expected status ${expectedStatus} on slot ${slot.id} for ${customer.id}`);
      }
      const record = ledger.created({ id: b.id, providerId: provider.id, slotId: slot.id, customerId: customer.id, status: b.status }, isPopular);
      onCreated(record, customer);
    } catch (err) {
      if (isSlotConflict(err)) ledger.conflictLost(isPopular);
      else ledger.fail(`createBooking of slot ${slot.id} by ${customer.email}: ${message(err)}`);
    }
  };

  // Built in one synchronous loop so every racer's request leaves in the same tick.
  const burst: Promise<void>[] = [];
  for (const slot of popular) {
    for (const customer of rng.sample(customers, racersPerSlot)) burst.push(attempt(customer, slot, true));
  }
  const picks = customers.map((c) => ({ customer: c, slots: rng.sample(otherSlots, rng.int(1, 2)) }));
  const others = mapLimit(picks, 40, async ({ customer, slots }) => {
    for (const slot of slots) await attempt(customer, slot, false);
  });
  await Promise.all([...burst, others]);
}

/**
 * Each provider's owner works through its PENDING bookings: accepts about 60%, rejects
 * about 25% with a reason, and leaves the rest pending.
 */
export async function providersDecide(ctx: ScenarioContext): Promise<void> {
  const { url, ledger, rng } = ctx;
  await Promise.all(
    ctx.providers.map(async (p) => {
      const pending = rng.shuffle(ledger.bookingsOf(p.id).filter((b) => b.status === "PENDING"));
      const accepts = Math.round(pending.length * 0.6);
      const rejects = Math.round(pending.length * 0.25);
      await mapLimit(pending.slice(0, accepts + rejects), 4, async (b, i) => {
        try {
          if (i < accepts) {
            const { acceptBooking } = await request<AcceptBookingData>(url, ACCEPT_BOOKING, { id: b.id }, p.owner.token);
            ledger.transitioned(b.id, "BOOKING_CONFIRMED", acceptBooking.status);
          } else {
            const reason = rng.pick(REJECT_REASONS);
            const { rejectBooking } = await request<RejectBookingData>(url, REJECT_BOOKING, { id: b.id, reason }, p.owner.token);
            if (rejectBooking.reason !== reason) ledger.fail(`rejectBooking ${b.id} answered reason ${JSON.stringify(rejectBooking.reason)}, sent ${JSON.stringify(reason)}`);
            ledger.transitioned(b.id, "BOOKING_REJECTED", rejectBooking.status);
          }
        } catch (err) {
          ledger.fail(`${i < accepts ? "acceptBooking" : "rejectBooking"} ${b.id} by the owner of ${p.name}: ${message(err)}`);
        }
      });
    }),
  );
}

/** About 15% of the customers cancel one of their PENDING or CONFIRMED bookings, with a reason. */
export async function customersCancel(ctx: ScenarioContext): Promise<void> {
  const { url, ledger, rng } = ctx;
  const active = (c: Account) => [...ledger.bookings.values()].filter((b) => b.customerId === c.id && (b.status === "PENDING" || b.status === "CONFIRMED"));
  const candidates = ctx.customers.filter((c) => active(c).length > 0);
  const cancelling = rng.sample(candidates, Math.round(ctx.customers.length * 0.15));
  await mapLimit(cancelling, 20, async (customer) => {
    const b = rng.pick(active(customer));
    const reason = rng.pick(CANCEL_REASONS);
    try {
      const { cancelBooking } = await request<CancelBookingData>(url, CANCEL_BOOKING, { id: b.id, reason }, customer.token);
      if (cancelBooking.reason !== reason) ledger.fail(`cancelBooking ${b.id} answered reason ${JSON.stringify(cancelBooking.reason)}, sent ${JSON.stringify(reason)}`);
      ledger.transitioned(b.id, "BOOKING_CANCELLED", cancelBooking.status);
    } catch (err) {
      ledger.fail(`cancelBooking ${b.id} by ${customer.email}: ${message(err)}`);
    }
  });
}
