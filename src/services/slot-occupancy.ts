import { lockLapsedHoldOnSlot, updateBookingStatus } from "../db/repositories/booking.repository";
import { claimSlot, findSlotById, releaseSlot, updateSlotStatus } from "../db/repositories/slot.repository";
import type { BookingRow, SlotRow } from "../db/schema";
import { OCCUPIED_SLOT_STATUSES, decideTransition, occupancyOf, type BookingStatus } from "../domain/booking-lifecycle";
import { changedUnderLock } from "./booking-rows";
import type { ChangeSet } from "./unit-of-work";

/**
 * Slot occupancy, decided here and nowhere else. One rule (`occupancyOf`,
 * src/domain/booking-lifecycle.ts): an active booking occupies its slot, HELD while PENDING and
 * BOOKED once CONFIRMED; when it ends or moves away, the slot is released: back on sale, or
 * withdrawn when the current schedule no longer offers it. A provider may take a free slot off
 * sale (block) and put it back (unblock). Each operation is one conditional UPDATE, so racing
 * requests are serialised by PostgreSQL's row lock (and, for bookings, the partial unique index
 * `bookings_one_active_per_slot`), never by a read-then-write. Every change is recorded in the
 * unit of work; seats going back on sale are recorded as released seats.
 */

/** Why an expired hold's booking ended: its `reason` and the event's. */
export const HOLD_EXPIRED_REASON = "The provider did not answer before the hold expired";

/**
 * Occupies `slotId` for a new active booking in `status` (AVAILABLE -> HELD/BOOKED, if it starts
 * after `startsAfter`). When that fails because a PENDING hold on the slot has run out, the hold
 * is expired (or the worker's expiry of it waited for) and the claim retried: a lapsed hold never
 * blocks a slot.
 *
 * @param seenStatus - the slot's status as this transaction read it before, if it did. When that
 *   was AVAILABLE, whoever took the slot since did so moments ago, so its hold (at least a minute)
 *   cannot have lapsed: the expiry and the second claim are skipped. That saves two round trips
 *   for every loser of a race for one slot (docs/benchmarks.md, scenario 2).
 * @returns the occupied slot, or undefined when it is taken for real (or blocked, or too soon)
 */
export async function occupy(
  changes: ChangeSet,
  slotId: string,
  status: BookingStatus,
  opts: { startsAfter: Date; seenStatus?: SlotRow["status"] },
): Promise<SlotRow | undefined> {
  const to = occupancyOf(status);
  if (!to) throw new Error(`a ${status} booking does not occupy a slot`);
  const { tx, at } = changes;
  let claimed = await claimSlot(tx, slotId, to, at, opts.startsAfter);
  if (!claimed && opts.seenStatus !== "AVAILABLE") {
    // Retried even when the expiry found nothing: the worker may have expired it while we waited.
    const lapsed = await lockLapsedHoldOnSlot(tx, slotId, at);
    if (lapsed) await expireHold(changes, lapsed);
    claimed = await claimSlot(tx, slotId, to, at, opts.startsAfter);
  }
  if (claimed) changes.slotChanged(claimed);
  return claimed;
}

/**
 * Makes the slot of `booking` follow its new status `to` under the rule: still active -> HELD
 * or BOOKED; ended -> released (see {@link release}).
 *
 * @returns the slot as it is now (its times go into the booking's event)
 */
export async function follow(changes: ChangeSet, booking: Pick<BookingRow, "id" | "slotId">, to: BookingStatus): Promise<SlotRow> {
  const occupied = occupancyOf(to);
  if (!occupied) return release(changes, booking);
  const updated = await updateSlotStatus(changes.tx, booking.slotId, OCCUPIED_SLOT_STATUSES, occupied, changes.at);
  if (updated) changes.slotChanged(updated);
  return updated ?? currentSlot(changes, booking);
}

/**
 * Releases the slot an active booking occupied (it ended or moved away): back to AVAILABLE, or
 * withdrawn when the current schedule no longer offers it (see `releaseSlot`). Recorded as
 * released seats when they go back on sale.
 *
 * @returns the slot as it is now (also when it was not occupied: then nothing changes)
 */
export async function release(changes: ChangeSet, booking: Pick<BookingRow, "id" | "slotId">): Promise<SlotRow> {
  const released = await releaseSlot(changes.tx, booking.slotId, OCCUPIED_SLOT_STATUSES, changes.at);
  if (!released) return currentSlot(changes, booking);
  if (released.status === "AVAILABLE") await changes.seatsReleased(released);
  else changes.slotChanged(released);
  return released;
}

/**
 * The provider takes a free slot off sale: AVAILABLE -> BLOCKED.
 * @returns the blocked slot, or undefined when it was not AVAILABLE (or withdrawn)
 */
export async function block(changes: ChangeSet, slotId: string): Promise<SlotRow | undefined> {
  const blocked = await updateSlotStatus(changes.tx, slotId, ["AVAILABLE"], "BLOCKED", changes.at);
  if (blocked) changes.slotChanged(blocked);
  return blocked;
}

/**
 * The provider puts a blocked slot back on sale: BLOCKED -> AVAILABLE, recorded as released
 * seats. Never a slot that a schedule change withdrew or marked for withdrawal.
 * @returns the slot, or undefined when it was not BLOCKED (or was withdrawn, or is marked)
 */
export async function unblock(changes: ChangeSet, slotId: string): Promise<SlotRow | undefined> {
  const unblocked = await updateSlotStatus(changes.tx, slotId, ["BLOCKED"], "AVAILABLE", changes.at, { allowWithdrawOnRelease: false });
  if (unblocked) await changes.seatsReleased(unblocked);
  return unblocked;
}

/**
 * Expires one locked PENDING booking whose hold ran out: EXPIRED, its slot released, history
 * (actor: system) and a BOOKING_EXPIRED event. Here because a lapsed hold stops occupying its
 * slot: {@link occupy} expires one in its way, the hold-expiry worker the others.
 *
 * @returns the expired booking
 */
export async function expireHold(changes: ChangeSet, booking: BookingRow): Promise<BookingRow> {
  const t = decideTransition(booking.status, "expire");
  const updated = changedUnderLock(
    await updateBookingStatus(changes.tx, booking.id, booking.status, { status: t.to, reason: HOLD_EXPIRED_REASON, updatedAt: changes.at }),
    booking.id,
  );
  const slot = await follow(changes, booking, t.to);
  await changes.recordBooking(updated, slot, [{ eventType: t.event, from: t.from, to: t.to, actorId: null, reason: HOLD_EXPIRED_REASON }]);
  return updated;
}

async function currentSlot(changes: ChangeSet, booking: Pick<BookingRow, "id" | "slotId">): Promise<SlotRow> {
  const slot = await findSlotById(changes.tx, booking.slotId);
  if (!slot) throw new Error(`slot ${booking.slotId} of booking ${booking.id} is missing`);
  return slot;
}
