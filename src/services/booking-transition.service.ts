import { updateBookingStatus } from "../db/repositories/booking.repository";
import type { BookingRow } from "../db/schema";
import { decideTransition, isHoldLapsed, type BookingAction } from "../domain/booking-lifecycle";
import { BadInputError, ConflictError } from "../domain/errors";
import { parseId } from "../domain/ids";
import { storableText } from "../domain/text";
import { requireProviderManager, requireViewer } from "./access";
import { changedUnderLock, findVisibleBooking } from "./booking-rows";
import type { UseCaseDeps } from "./deps";
import { follow } from "./slot-occupancy";
import type { Viewer } from "../domain/viewer";

export const MAX_REASON_LENGTH = 500;

/** Trims a free-text reason; empty becomes null. @throws BadInputError when too long */
export function parseReason(reason: string | null | undefined): string | null {
  const r = reason === null || reason === undefined ? undefined : storableText(reason, "reason").trim();
  if (!r) return null;
  if (r.length > MAX_REASON_LENGTH) throw new BadInputError(`reason must be at most ${MAX_REASON_LENGTH} characters`, "reason");
  return r;
}

/** What {@link BookingTransitionService} needs. */
export type BookingTransitionDeps = UseCaseDeps;

/** Accept, reject and cancel: the caller-driven booking transitions. */
export class BookingTransitionService {
  constructor(private readonly deps: BookingTransitionDeps) {}

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
    return this.deps.uow.run(this.deps.clock.now(), async (changes) => {
      const { booking, provider } = await findVisibleBooking(changes.tx, v, id, { forUpdate: true });
      if (action === "accept" || action === "reject") requireProviderManager(v, provider);
      const t = decideTransition(booking.status, action);
      if (action === "accept" && isHoldLapsed(booking.status, booking.holdExpiresAt, changes.at)) {
        throw new ConflictError("HOLD_EXPIRED", "The booking's hold has expired; the customer must book again");
      }
      const updated = changedUnderLock(
        await updateBookingStatus(changes.tx, id, booking.status, { status: t.to, reason: reason ?? booking.reason, updatedAt: changes.at }),
        id,
      );
      // Accept keeps the slot occupied (BOOKED); cancel and reject release it.
      const slot = await follow(changes, booking, t.to);
      await changes.recordBooking(updated, slot, [{ eventType: t.event, from: t.from, to: t.to, actorId: v.userId, reason }]);
      return updated;
    });
  }
}
