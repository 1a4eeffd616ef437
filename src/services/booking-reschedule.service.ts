import { moveBooking } from "../db/repositories/booking.repository";
import { findSlotForBooking } from "../db/repositories/slot.repository";
import type { BookingRow, ProviderRow } from "../db/schema";
import { initialState, isActive, isHoldLapsed } from "../domain/booking-lifecycle";
import { bookableAfter } from "../domain/schedule";
import { BadInputError, ConflictError, NotFoundError } from "../domain/errors";
import { parseId } from "../domain/ids";
import { requireViewer } from "./access";
import { changedUnderLock, findVisibleBooking } from "./booking-rows";
import type { UseCaseDeps } from "./deps";
import { occupy, release } from "./slot-occupancy";
import type { Viewer } from "../domain/viewer";
import type { ChangeSet } from "./unit-of-work";

/** What {@link BookingRescheduleService} needs. */
export interface BookingRescheduleDeps extends UseCaseDeps {
  /** Hold length in minutes (config `BOOKING_HOLD_MINUTES`). */
  holdMinutes: number;
}

/** Moves bookings between slots of one provider. */
export class BookingRescheduleService {
  constructor(private readonly deps: BookingRescheduleDeps) {}

  /**
   * Moves a PENDING or CONFIRMED booking to another slot of the same provider in one
   * transaction; the booking keeps its id. The target is occupied with the same conditional
   * UPDATE as a new booking, the old slot is released, and the status follows the provider's
   * rule again: a provider that requires confirmation must accept the new time (PENDING with
   * a fresh hold), otherwise it is CONFIRMED. A BOOKING_RESCHEDULED event carries the previous
   * slot's id and times. The booking's customer, the provider's owner or an admin may do it.
   *
   * @throws UnauthenticatedError; BadInputError for malformed ids, the same slot, or a slot of another provider
   * @throws NotFoundError when the booking is not visible or the slot does not exist
   * @throws ConflictError `INVALID_TRANSITION` for a booking that is not active, `HOLD_EXPIRED`
   *   for a PENDING booking whose hold ran out, `SLOT_UNAVAILABLE` when the target is taken
   */
  async rescheduleBooking(viewer: Viewer | null, idInput: string, slotIdInput: string): Promise<BookingRow> {
    const v = requireViewer(viewer);
    const id = parseId(idInput);
    const targetId = parseId(slotIdInput, "slotId");
    return this.deps.uow.run(this.deps.clock.now(), async (changes) => {
      const { booking, provider } = await findVisibleBooking(changes.tx, v, id, { forUpdate: true });
      if (!isActive(booking.status)) throw new ConflictError("INVALID_TRANSITION", `Cannot reschedule a booking that is ${booking.status}`);
      if (isHoldLapsed(booking.status, booking.holdExpiresAt, changes.at)) throw new ConflictError("HOLD_EXPIRED", "The booking's hold has expired");
      if (booking.slotId === targetId) throw new BadInputError("The booking is already on that slot", "slotId");
      return this.move(changes, v, booking, provider, targetId);
    });
  }

  /** Occupies the target, releases the old slot, moves the booking and records the event. */
  private async move(changes: ChangeSet, v: Viewer, booking: BookingRow, provider: ProviderRow, targetId: string): Promise<BookingRow> {
    const now = changes.at;
    const found = await findSlotForBooking(changes.tx, targetId);
    if (!found) throw new NotFoundError("Slot", targetId);
    if (found.slot.providerId !== booking.providerId) throw new BadInputError("A booking can only move to a slot of the same provider", "slotId");
    const next = initialState(provider.requiresConfirmation, now, this.deps.holdMinutes);
    const startsAfter = bookableAfter(now, found.minimumNoticeMinutes);
    const claimed = await occupy(changes, targetId, next.status, { startsAfter, seenStatus: found.slot.status });
    if (!claimed) throw new ConflictError("SLOT_UNAVAILABLE", "The target slot is no longer available");
    const previous = await release(changes, booking);
    const moved = changedUnderLock(
      await moveBooking(changes.tx, booking.id, booking.status, { slotId: targetId, status: next.status, holdExpiresAt: next.holdExpiresAt, updatedAt: now }),
      booking.id,
    );
    await changes.recordBooking(moved, claimed, [
      {
        eventType: "BOOKING_RESCHEDULED",
        from: booking.status,
        to: next.status,
        actorId: v.userId,
        reason: `Rescheduled from ${previous.startsAt.toISOString()} to ${claimed.startsAt.toISOString()}`,
        extra: { previousSlotId: previous.id, previousSlotStart: previous.startsAt.toISOString(), previousSlotEnd: previous.endsAt.toISOString() },
      },
    ]);
    return moved;
  }
}
