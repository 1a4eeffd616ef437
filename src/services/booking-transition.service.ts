import type { Db } from "../db/client";
import { findBookingById, updateBookingStatus } from "../db/repositories/bookings.repository";
import { findProviderById } from "../db/repositories/providers.repository";
import { findSlotById, releaseSlot, updateSlotStatus } from "../db/repositories/slots.repository";
import type { BookingRow } from "../db/schema";
import { decideTransition, isHoldLapsed, type BookingAction } from "../domain/booking-lifecycle";
import type { Clock } from "../domain/clock";
import { BadInputError, ConflictError, NotFoundError } from "../domain/errors";
import { parseId } from "../domain/ids";
import { storableText } from "../domain/text";
import type { LivePublisher } from "../events/live-publisher";
import { toSlotSnapshot } from "../events/snapshots";
import { canSeeBooking, requireProviderManager, requireViewer } from "./access";
import { recordBookingChanges } from "./booking-effects";
import type { Viewer } from "../domain/viewer";

export const MAX_REASON_LENGTH = 500;

/** Trims a free-text reason; empty becomes null. @throws BadInputError when too long */
export function parseReason(reason: string | null | undefined): string | null {
  const r = reason === null || reason === undefined ? undefined : storableText(reason, "reason").trim();
  if (!r) return null;
  if (r.length > MAX_REASON_LENGTH) throw new BadInputError(`reason must be at most ${MAX_REASON_LENGTH} characters`, "reason");
  return r;
}

/** Accept, reject and cancel: the caller-driven booking transitions. */
export class BookingTransitionService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly live: LivePublisher,
  ) {}

  /** The provider's owner (or an admin) confirms a PENDING booking; the slot becomes BOOKED. */
  acceptBooking(viewer: Viewer | null, id: string): Promise<BookingRow> {
    return this.transition(viewer, id, "accept", null);
  }

  /** The provider's owner (or an admin) rejects a PENDING booking; the slot is released. */
  rejectBooking(viewer: Viewer | null, id: string, reason?: string | null): Promise<BookingRow> {
    return this.transition(viewer, id, "reject", reason);
  }

  /** The customer, the provider's owner or an admin cancels a PENDING or CONFIRMED booking; the slot is released. */
  cancelBooking(viewer: Viewer | null, id: string, reason?: string | null): Promise<BookingRow> {
    return this.transition(viewer, id, "cancel", reason);
  }

  /**
   * Locks the booking row, checks who may act and whether the lifecycle allows it,
   * then updates booking and slot and records history and outbox in one transaction.
   *
   * @throws UnauthenticatedError for an anonymous caller; BadInputError for a malformed id or long reason
   * @throws NotFoundError when the booking does not exist or the caller may not see it
   * @throws ForbiddenError when a customer tries to accept or reject
   * @throws ConflictError `INVALID_TRANSITION` from a status that does not allow it;
   *   `HOLD_EXPIRED` when accepting a booking whose hold has run out
   */
  private async transition(viewer: Viewer | null, idInput: string, action: BookingAction, reasonInput: string | null | undefined): Promise<BookingRow> {
    const v = requireViewer(viewer);
    const id = parseId(idInput);
    const reason = parseReason(reasonInput);
    const now = this.clock.now();
    const outcome = await this.db.transaction(async (tx) => {
      const booking = await findBookingById(tx, id, { forUpdate: true });
      const provider = booking && (await findProviderById(tx, booking.providerId));
      if (!booking || !provider || !canSeeBooking(v, booking, provider)) throw new NotFoundError("Booking", id);
      if (action === "accept" || action === "reject") requireProviderManager(v, provider);
      const t = decideTransition(booking.status, action);
      if (action === "accept" && isHoldLapsed(booking.status, booking.holdExpiresAt, now)) {
        throw new ConflictError("HOLD_EXPIRED", "The booking's hold has expired; the customer must book again");
      }
      const updated = await updateBookingStatus(tx, id, booking.status, { status: t.to, reason: reason ?? booking.reason, updatedAt: now });
      // The row is locked, so the guard cannot miss; this would mean a bug elsewhere.
      if (!updated) throw new Error(`booking ${id} changed under its row lock`);
      // Cancel and reject release the slot (withdrawn instead when the schedule no longer offers it).
      const slot =
        t.slotStatus === "AVAILABLE"
          ? await releaseSlot(tx, booking.slotId, ["HELD", "BOOKED"], now)
          : await updateSlotStatus(tx, booking.slotId, ["HELD", "BOOKED"], t.slotStatus, now);
      const slotForEvent = slot ?? (await findSlotById(tx, booking.slotId));
      if (!slotForEvent) throw new Error(`slot ${booking.slotId} of booking ${id} is missing`);
      const messages = await recordBookingChanges(
        tx,
        updated,
        slotForEvent,
        [{ eventType: t.event, from: t.from, to: t.to, actorId: v.userId, reason }],
        now,
      );
      return { booking: updated, messages, slot };
    });
    await this.live.publish({ bookingEvents: outcome.messages, slots: outcome.slot ? [toSlotSnapshot(outcome.slot)] : [] });
    return outcome.booking;
  }
}
