import { lockLapsedHolds } from "../db/repositories/booking.repository";
import type { UseCaseDeps } from "./deps";
import { expireHold } from "./slot-occupancy";

export { HOLD_EXPIRED_REASON } from "./slot-occupancy";

/** What {@link BookingExpiryService} needs. */
export type BookingExpiryDeps = UseCaseDeps;

/** The hold-expiry worker's use-case. */
export class BookingExpiryService {
  constructor(private readonly deps: BookingExpiryDeps) {}

  /**
   * Expires up to `limit` PENDING bookings whose `holdExpiresAt` has passed: each becomes
   * EXPIRED and releases its slot (see `expireHold`). Rows are claimed with `FOR UPDATE SKIP
   * LOCKED`, so several instances can run this at once and never expire one booking twice.
   *
   * @returns how many bookings were expired
   */
  async expireLapsedHolds(limit = 100): Promise<number> {
    return this.deps.uow.run(this.deps.clock.now(), async (changes) => {
      const lapsed = await lockLapsedHolds(changes.tx, changes.at, limit);
      for (const booking of lapsed) await expireHold(changes, booking);
      return lapsed.length;
    });
  }
}
