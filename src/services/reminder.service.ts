import { findDecidedReminderOffsets, insertReminderDecisions, lockBookingsDueForReminder } from "../db/repositories/booking.repository";
import type { UseCaseDeps } from "./deps";

/**
 * Which reminder offsets are due for a slot starting at `start` (ms), given those already
 * decided: every configured offset whose moment has passed and is not yet decided. Only the
 * closest one is emitted: a booking confirmed 30 minutes before its start gets one
 * reminder, not a stale "24 hours before" one as well.
 *
 * @param offsets - minutes before the start
 * @returns offsets to record, and the one to emit (undefined when none is due)
 */
export function dueReminders(offsets: readonly number[], start: number, now: number, decided: ReadonlySet<number>): { record: number[]; emit?: number } {
  const due = offsets.filter((o) => start - o * 60_000 <= now && !decided.has(o));
  if (due.length === 0) return { record: [] };
  return { record: due, emit: Math.min(...due) };
}

/** What {@link ReminderService} needs. */
export interface ReminderDeps extends UseCaseDeps {
  /** Minutes before the start, e.g. [1440, 60] (config `REMINDER_OFFSETS_MINUTES`). */
  offsets: readonly number[];
}

/** The reminder worker's use-case. */
export class ReminderService {
  constructor(private readonly deps: ReminderDeps) {}

  /**
   * Emits BOOKING_REMINDER events (outbox + live) for CONFIRMED bookings whose reminder
   * moments have passed. Exactly once per booking, offset and slot start: bookings are
   * claimed with `FOR UPDATE SKIP LOCKED` and every decision is a row whose primary key
   * refuses a second one, across workers and restarts. Cancelled bookings are no longer
   * CONFIRMED, and a rescheduled booking has a new slot start, so neither gets a stale one.
   *
   * @returns how many reminders were emitted
   */
  async sendDueReminders(limit = 200): Promise<number> {
    const { offsets } = this.deps;
    if (offsets.length === 0) return 0;
    return this.deps.uow.run(this.deps.clock.now(), async (changes) => {
      const { tx, at } = changes;
      let emitted = 0;
      const soon = await lockBookingsDueForReminder(tx, at, offsets, limit);
      for (const { booking, slot } of soon) {
        const decided = await findDecidedReminderOffsets(tx, booking.id, slot.startsAt);
        const { record, emit } = dueReminders(offsets, slot.startsAt.getTime(), at.getTime(), decided);
        if (emit === undefined) continue;
        const recorded = await insertReminderDecisions(
          tx,
          record.map((o) => ({ bookingId: booking.id, offsetMinutes: o, slotStartsAt: slot.startsAt, emitted: o === emit, decidedAt: at })),
        );
        if (!recorded.includes(emit)) continue;
        await changes.recordBooking(booking, slot, [
          { eventType: "BOOKING_REMINDER", from: booking.status, to: booking.status, actorId: null, reason: null, transition: false, extra: { reminderOffsetMinutes: emit } },
        ]);
        emitted++;
      }
      return emitted;
    });
  }
}
