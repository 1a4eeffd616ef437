import type { Db, Tx } from "../db/client";
import type { BookingRow, SlotRow } from "../db/schema";
import type { LivePublisher } from "../events/live-publisher";
import type { BookingEventMessage } from "../events/pubsub";
import { toSlotSnapshot } from "../events/snapshots";
import { recordBookingChanges, type RecordedChange } from "./booking-effects";

/**
 * Reacts, inside the transaction, to seats of a slot going back on sale (a booking ended or
 * moved away, or the provider unblocked the slot), e.g. a waitlist offering them to the next in
 * line. Whatever it records belongs to the same unit of work.
 */
export type SeatsReleasedReaction = (changes: ChangeSet, slot: SlotRow) => Promise<void>;

/**
 * The changes of one unit of work, recorded by the use-case as it makes them: booking changes
 * (their history and outbox rows are written at once, their live messages kept), changed slots,
 * and released seats. Published by {@link UnitOfWork.run} once the transaction has committed.
 */
export class ChangeSet {
  private readonly messages: BookingEventMessage[] = [];
  // By id, in first-recorded order, holding the latest row: a slot recorded twice (a lapsed hold
  // released, then the slot claimed again) is published once, as it is at commit.
  private readonly slots = new Map<string, SlotRow>();
  private readonly releasedSlots: SlotRow[] = [];

  constructor(
    /** The transaction every statement of the unit of work runs in. */
    readonly tx: Tx,
    /** The instant of the change (UTC): recorded in rows and envelopes. */
    readonly at: Date,
    private readonly requestId: string | undefined,
    private readonly onSeatsReleased: readonly SeatsReleasedReaction[],
  ) {}

  /**
   * Records status changes of one booking (in order): writes their history and outbox rows now,
   * and keeps their live messages for after commit. Every booking event goes through here.
   *
   * @param booking - the booking row after all `changes`
   * @param slot - the booking's slot (its times go into the envelope)
   */
  async recordBooking(booking: BookingRow, slot: Pick<SlotRow, "startsAt" | "endsAt">, changes: readonly RecordedChange[]): Promise<void> {
    this.messages.push(...(await recordBookingChanges(this.tx, booking, slot, changes, { at: this.at, requestId: this.requestId })));
  }

  /** Records that these slots changed status, or were created or withdrawn (live slot updates). */
  slotChanged(...slots: readonly SlotRow[]): void {
    for (const slot of slots) this.slots.set(slot.id, slot);
  }

  /**
   * Records that `slot`'s seats went back on sale (see src/services/slot-occupancy.ts, the only
   * caller) and runs the reactions to that inside the transaction.
   */
  async seatsReleased(slot: SlotRow): Promise<void> {
    this.releasedSlots.push(slot);
    this.slotChanged(slot);
    for (const react of this.onSeatsReleased) await react(this, slot);
  }

  /** Slots whose seats went back on sale so far, in order. */
  get released(): readonly SlotRow[] {
    return this.releasedSlots;
  }

  /** What to publish after commit. */
  committed(): { bookingEvents: BookingEventMessage[]; slots: SlotRow[] } {
    return { bookingEvents: this.messages, slots: [...this.slots.values()] };
  }
}

/** What a unit of work needs. */
export interface UnitOfWorkDeps {
  db: Db;
  live: LivePublisher;
  /** The id of the API request being served (`x-request-id`), read when a unit of work starts; none for workers. */
  requestId: () => string | undefined;
}

/**
 * One unit of work for a booking change: runs the use-case in one transaction, lets it record its
 * changes as it makes them ({@link ChangeSet}), and after commit wakes the outbox's readers (only
 * when outbox rows were written) and publishes the changes live. The only caller of
 * `LivePublisher.publish`, so subscribers hear only of committed state, once.
 */
export class UnitOfWork {
  private readonly seatsReleasedReactions: SeatsReleasedReaction[] = [];

  constructor(private readonly deps: UnitOfWorkDeps) {}

  /** Registers a reaction to released seats, run inside every unit of work that releases some. */
  onSeatsReleased(reaction: SeatsReleasedReaction): void {
    this.seatsReleasedReactions.push(reaction);
  }

  /**
   * Runs `work` in one transaction with a fresh {@link ChangeSet}; once it has committed,
   * publishes what was recorded. When `work` throws, the transaction rolls back and nothing is
   * published.
   *
   * @param at - the instant of the change (UTC)
   * @returns what `work` returns
   * @throws whatever `work` (or the commit) throws
   */
  async run<T>(at: Date, work: (changes: ChangeSet) => Promise<T>): Promise<T> {
    const requestId = this.deps.requestId();
    let changes: ChangeSet | undefined;
    const result = await this.deps.db.transaction(async (tx) => {
      // A fresh set per attempt: nothing recorded by a rolled-back attempt may leak out.
      changes = new ChangeSet(tx, at, requestId, this.seatsReleasedReactions);
      return work(changes);
    });
    if (changes) await this.publish(changes);
    return result;
  }

  private async publish(changes: ChangeSet): Promise<void> {
    const { bookingEvents, slots } = changes.committed();
    // Every booking event was written as one outbox row: its readers have work.
    if (bookingEvents.length > 0) this.deps.live.outboxCommitted();
    if (bookingEvents.length > 0 || slots.length > 0) {
      await this.deps.live.publish({ bookingEvents, slots: slots.map(toSlotSnapshot) });
    }
  }
}
