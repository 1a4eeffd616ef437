import type { Db, Tx } from "../db/client";
import { lockLapsedHolds, lockLapsedHoldOnSlot, updateBookingStatus } from "../db/repositories/bookings.repository";
import { claimSlot, findSlotById, releaseSlot } from "../db/repositories/slots.repository";
import type { BookingRow, SlotRow } from "../db/schema";
import { decideTransition } from "../domain/booking-lifecycle";
import type { Clock } from "../domain/clock";
import type { LivePublisher } from "../events/live-publisher";
import type { BookingEventMessage } from "../events/pubsub";
import { toSlotSnapshot } from "../events/snapshots";
import { recordBookingChanges } from "./booking-effects";

export const HOLD_EXPIRED_REASON = "The provider did not answer before the hold expired";

/** What expiring one booking changed, to publish after commit. */
export interface ExpiryOutcome {
  booking: BookingRow;
  messages: BookingEventMessage[];
  slot: SlotRow | undefined;
}

/**
 * Expires one locked PENDING booking inside `tx`: EXPIRED, slot released (back to AVAILABLE, or
 * withdrawn when the current schedule no longer offers it, see releaseSlot), history
 * (actor: system) and a BOOKING_EXPIRED outbox event.
 */
export async function expireBookingInTx(tx: Tx, booking: BookingRow, now: Date): Promise<ExpiryOutcome> {
  const t = decideTransition(booking.status, "expire");
  const updated = await updateBookingStatus(tx, booking.id, booking.status, { status: t.to, reason: HOLD_EXPIRED_REASON, updatedAt: now });
  if (!updated) throw new Error(`booking ${booking.id} changed under its row lock`);
  const slot = await releaseSlot(tx, booking.slotId, ["HELD"], now);
  const slotForEvent = slot ?? (await findSlotById(tx, booking.slotId));
  if (!slotForEvent) throw new Error(`slot ${booking.slotId} of booking ${booking.id} is missing`);
  const messages = await recordBookingChanges(
    tx,
    updated,
    slotForEvent,
    [{ eventType: t.event, from: t.from, to: t.to, actorId: null, reason: HOLD_EXPIRED_REASON }],
    now,
  );
  return { booking: updated, messages, slot };
}

/**
 * Expires the lapsed hold on `slotId`, if any, inside `tx`, so a booking of a slot whose
 * hold has run out succeeds even before the worker gets to it.
 */
export async function expireLapsedHoldOnSlot(tx: Tx, slotId: string, now: Date): Promise<ExpiryOutcome | undefined> {
  const lapsed = await lockLapsedHoldOnSlot(tx, slotId, now);
  return lapsed ? expireBookingInTx(tx, lapsed, now) : undefined;
}

/**
 * Claims `slotId` for a booking (AVAILABLE -> `to`, starting after `startsAfter`). When the
 * claim fails because a PENDING hold on the slot has run out, that hold is expired (or the
 * worker's expiry of it is waited for) and the claim retried: a lapsed hold never blocks a slot.
 *
 * @param seenStatus - the slot's status as this transaction read it before claiming, if it did.
 *   When that was AVAILABLE, whoever took the slot since did so moments ago, so its hold (at
 *   least a minute) cannot have lapsed: the expiry and the second claim are skipped. That saves
 *   two round trips for every loser of a race for one slot (docs/benchmarks.md, scenario 2).
 * @returns the claimed slot (undefined when it is taken for real) and any expiry to publish
 */
export async function claimSlotReleasingLapsedHold(
  tx: Tx,
  slotId: string,
  to: SlotRow["status"],
  now: Date,
  startsAfter: Date,
  seenStatus?: SlotRow["status"],
): Promise<{ claimed: SlotRow | undefined; expired: ExpiryOutcome | undefined }> {
  const first = await claimSlot(tx, slotId, to, now, startsAfter);
  if (first) return { claimed: first, expired: undefined };
  if (seenStatus === "AVAILABLE") return { claimed: undefined, expired: undefined };
  // Retried even when the expiry found nothing: the worker may have expired it while we waited.
  const expired = await expireLapsedHoldOnSlot(tx, slotId, now);
  return { claimed: await claimSlot(tx, slotId, to, now, startsAfter), expired };
}

/** The hold-expiry worker's use-case. */
export class BookingExpiryService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly live: LivePublisher,
  ) {}

  /**
   * Expires up to `limit` PENDING bookings whose `holdExpiresAt` has passed. Rows are
   * claimed with `FOR UPDATE SKIP LOCKED`, so several instances can run this at once and
   * never expire one booking twice.
   *
   * @returns how many bookings were expired
   */
  async expireLapsedHolds(limit = 100): Promise<number> {
    const now = this.clock.now();
    const outcomes = await this.db.transaction(async (tx) => {
      const lapsed = await lockLapsedHolds(tx, now, limit);
      const out: ExpiryOutcome[] = [];
      for (const booking of lapsed) out.push(await expireBookingInTx(tx, booking, now));
      return out;
    });
    if (outcomes.length > 0) {
      await this.live.publish({
        bookingEvents: outcomes.flatMap((o) => o.messages),
        slots: outcomes.flatMap((o) => (o.slot ? [toSlotSnapshot(o.slot)] : [])),
      });
    }
    return outcomes.length;
  }
}
