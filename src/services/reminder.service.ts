import type { Db } from "../db/client";
import { findDecidedReminderOffsets, insertReminderDecisions, lockBookingsDueForReminder } from "../db/repositories/bookings.repository";
import type { Clock } from "../domain/clock";
import type { LivePublisher } from "../events/live-publisher";
import type { BookingEventMessage } from "../events/pubsub";
import { recordBookingChanges } from "./booking-effects";

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

/** The reminder worker's use-case. */
export class ReminderService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly live: LivePublisher,
    /** Minutes before the start, e.g. [1440, 60] (config `REMINDER_OFFSETS_MINUTES`). */
    private readonly offsets: readonly number[],
  ) {}

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
    if (this.offsets.length === 0) return 0;
    const now = this.clock.now();
    const messages = await this.db.transaction(async (tx) => {
      const out: BookingEventMessage[] = [];
      const soon = await lockBookingsDueForReminder(tx, now, this.offsets, limit);
      for (const { booking, slot } of soon) {
        const decided = await findDecidedReminderOffsets(tx, booking.id, slot.startsAt);
        const { record, emit } = dueReminders(this.offsets, slot.startsAt.getTime(), now.getTime(), decided);
        if (emit === undefined) continue;
        const recorded = await insertReminderDecisions(
          tx,
          record.map((o) => ({ bookingId: booking.id, offsetMinutes: o, slotStartsAt: slot.startsAt, emitted: o === emit, decidedAt: now })),
        );
        if (!recorded.includes(emit)) continue;
        out.push(
          ...(await recordBookingChanges(
            tx,
            booking,
            slot,
            [{ eventType: "BOOKING_REMINDER", from: booking.status, to: booking.status, actorId: null, reason: null, transition: false, extra: { reminderOffsetMinutes: emit } }],
            now,
          )),
        );
      }
      return out;
    });
    if (messages.length > 0) await this.live.publish({ bookingEvents: messages, slots: [] });
    return messages.length;
  }
}
