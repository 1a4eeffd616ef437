import type { Db } from "../db/client";
import { findBookingById, moveBooking } from "../db/repositories/bookings.repository";
import { findProviderById } from "../db/repositories/providers.repository";
import { findSlotById, findSlotForBooking, releaseSlot } from "../db/repositories/slots.repository";
import type { BookingRow } from "../db/schema";
import { initialState, isActive, isHoldLapsed } from "../domain/booking-lifecycle";
import type { Clock } from "../domain/clock";
import { bookableAfter } from "../domain/schedule";
import { BadInputError, ConflictError, NotFoundError } from "../domain/errors";
import { parseId } from "../domain/ids";
import type { LivePublisher } from "../events/live-publisher";
import { toSlotSnapshot } from "../events/snapshots";
import { canSeeBooking, requireViewer } from "./access";
import { recordBookingChanges } from "./booking-effects";
import { claimSlotReleasingLapsedHold } from "./booking-expiry.service";
import type { Viewer } from "../domain/viewer";

/** Moves bookings between slots of one provider. */
export class BookingRescheduleService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly live: LivePublisher,
    private readonly holdMinutes: number,
  ) {}

  /**
   * Moves a PENDING or CONFIRMED booking to another slot of the same provider in one
   * transaction; the booking keeps its id. The target is claimed with the same conditional
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
    const now = this.clock.now();
    const outcome = await this.db.transaction(async (tx) => {
      const booking = await findBookingById(tx, id, { forUpdate: true });
      const provider = booking && (await findProviderById(tx, booking.providerId));
      if (!booking || !provider || !canSeeBooking(v, booking, provider)) throw new NotFoundError("Booking", id);
      if (!isActive(booking.status)) throw new ConflictError("INVALID_TRANSITION", `Cannot reschedule a booking that is ${booking.status}`);
      if (isHoldLapsed(booking.status, booking.holdExpiresAt, now)) throw new ConflictError("HOLD_EXPIRED", "The booking's hold has expired");
      if (booking.slotId === targetId) throw new BadInputError("The booking is already on that slot", "slotId");
      const found = await findSlotForBooking(tx, targetId);
      if (!found) throw new NotFoundError("Slot", targetId);
      const target = found.slot;
      if (target.providerId !== booking.providerId) throw new BadInputError("A booking can only move to a slot of the same provider", "slotId");

      const next = initialState(provider.requiresConfirmation, now, this.holdMinutes);
      const startsAfter = bookableAfter(now, found.minimumNoticeMinutes);
      const { claimed, expired } = await claimSlotReleasingLapsedHold(tx, targetId, next.slotStatus, now, startsAfter, target.status);
      if (!claimed) throw new ConflictError("SLOT_UNAVAILABLE", "The target slot is no longer available");

      const released = await releaseSlot(tx, booking.slotId, ["HELD", "BOOKED"], now);
      const previous = released ?? (await findSlotById(tx, booking.slotId));
      if (!previous) throw new Error(`slot ${booking.slotId} of booking ${id} is missing`);
      const moved = await moveBooking(tx, id, booking.status, { slotId: targetId, status: next.status, holdExpiresAt: next.holdExpiresAt, updatedAt: now });
      if (!moved) throw new Error(`booking ${id} changed under its row lock`);
      const reason = `Rescheduled from ${previous.startsAt.toISOString()} to ${claimed.startsAt.toISOString()}`;
      const messages = await recordBookingChanges(
        tx,
        moved,
        claimed,
        [
          {
            eventType: "BOOKING_RESCHEDULED",
            from: booking.status,
            to: next.status,
            actorId: v.userId,
            reason,
            extra: { previousSlotId: previous.id, previousSlotStart: previous.startsAt.toISOString(), previousSlotEnd: previous.endsAt.toISOString() },
          },
        ],
        now,
      );
      return { booking: moved, messages: [...(expired?.messages ?? []), ...messages], slots: [claimed, ...(released ? [released] : [])] };
    });
    await this.live.publish({ bookingEvents: outcome.messages, slots: outcome.slots.map(toSlotSnapshot) });
    return outcome.booking;
  }
}
