import type { DbOrTx } from "../db/client";
import { findBookingById } from "../db/repositories/booking.repository";
import { findProviderById } from "../db/repositories/provider.repository";
import type { BookingRow, ProviderRow } from "../db/schema";
import { NotFoundError } from "../domain/errors";
import { canSeeBooking } from "./access";
import type { Viewer } from "../domain/viewer";

/**
 * A booking `viewer` may see, with its provider (for the next access checks). A booking the
 * caller may not see is reported exactly like one that does not exist.
 *
 * @param opts.forUpdate - lock the booking row until the transaction ends
 * @throws NotFoundError when the booking does not exist or `viewer` may not see it
 */
export async function findVisibleBooking(
  db: DbOrTx,
  viewer: Viewer,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<{ booking: BookingRow; provider: ProviderRow }> {
  const booking = await findBookingById(db, id, opts);
  const provider = booking && (await findProviderById(db, booking.providerId));
  if (!booking || !provider || !canSeeBooking(viewer, booking, provider)) throw new NotFoundError("Booking", id);
  return { booking, provider };
}

/**
 * The row of a guarded update of a booking whose row this transaction locked: the lock means the
 * guard cannot miss, so a miss is a bug elsewhere.
 * @throws Error when `row` is undefined
 */
export function changedUnderLock<T>(row: T | undefined, bookingId: string): T {
  if (row === undefined) throw new Error(`booking ${bookingId} changed under its row lock`);
  return row;
}
