import { findBookingByIdempotencyKey, insertBooking } from "../db/repositories/booking.repository";
import { findSlotForBooking } from "../db/repositories/slot.repository";
import type { BookingRow } from "../db/schema";
import { initialState } from "../domain/booking-lifecycle";
import { bookableAfter } from "../domain/schedule";
import { BadInputError, ConflictError, NotFoundError } from "../domain/errors";
import { parseId } from "../domain/ids";
import { storableText } from "../domain/text";
import { requireRole } from "./access";
import type { RecordedChange } from "./booking-effects";
import type { UseCaseDeps } from "./deps";
import { occupy } from "./slot-occupancy";
import type { Viewer } from "../domain/viewer";
import type { ChangeSet } from "./unit-of-work";

export interface CreateBookingInput {
  slotId: string;
  /** Client-chosen key; the same key from the same customer returns the first booking. */
  idempotencyKey?: string | null;
}

/**
 * The outcome of `createBooking`. A replay of an idempotency key is an expected
 * outcome, not an error: `created` is false and `booking` is the first booking.
 */
export interface CreateBookingResult {
  booking: BookingRow;
  created: boolean;
}

export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;
const AUTO_CONFIRM_REASON = "Confirmed automatically: the provider does not require confirmation";

function parseIdempotencyKey(key: string | null | undefined): string | null {
  if (key === null || key === undefined) return null;
  const k = storableText(key, "idempotencyKey").trim();
  if (k.length === 0 || k.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new BadInputError(`idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`, "idempotencyKey");
  }
  return k;
}

/** What {@link BookingCreateService} needs. */
export interface BookingCreateDeps extends UseCaseDeps {
  /** Hold length in minutes (config `BOOKING_HOLD_MINUTES`). */
  holdMinutes: number;
}

/** Books a slot for a customer. */
export class BookingCreateService {
  constructor(private readonly deps: BookingCreateDeps) {}

  /**
   * Claims the slot and creates the booking, its history and its outbox events in one
   * transaction. The claim is a conditional UPDATE (AVAILABLE -> HELD/BOOKED); the partial
   * unique index `bookings_one_active_per_slot` is the backstop. Live subscribers hear of
   * it after commit.
   *
   * @throws UnauthenticatedError / ForbiddenError unless the caller is a CUSTOMER
   * @throws BadInputError for a malformed slot id or idempotency key
   * @throws NotFoundError for an unknown slot
   * @throws ConflictError `SLOT_UNAVAILABLE` when the slot is taken, blocked or past;
   *   `IDEMPOTENCY_KEY_REUSED` when the key was used for a request naming another slot (a
   *   replay of the original request returns the booking even after it was rescheduled)
   */
  async createBooking(viewer: Viewer | null, input: CreateBookingInput): Promise<CreateBookingResult> {
    const v = requireRole(viewer, ["CUSTOMER"]);
    const slotId = parseId(input.slotId, "slotId");
    const key = parseIdempotencyKey(input.idempotencyKey);

    if (key) {
      const replay = await this.findReplay(v.userId, key, slotId);
      if (replay) return { booking: replay, created: false };
    }
    try {
      const booking = await this.deps.uow.run(this.deps.clock.now(), (changes) => this.book(changes, v, slotId, key));
      return { booking, created: true };
    } catch (err) {
      // A concurrent request with the same key won: answer with its booking.
      if (key && (err instanceof IdempotencyKeyTaken || isSlotUnavailable(err))) {
        const replay = await this.findReplay(v.userId, key, slotId);
        if (replay) return { booking: replay, created: false };
      }
      throw err;
    }
  }

  /** The booking transaction: occupy the slot, insert the booking, record its events. */
  private async book(changes: ChangeSet, v: Viewer, slotId: string, key: string | null): Promise<BookingRow> {
    const now = changes.at;
    const found = await findSlotForBooking(changes.tx, slotId);
    if (!found) throw new NotFoundError("Slot", slotId);
    const init = initialState(found.requiresConfirmation, now, this.deps.holdMinutes);
    const startsAfter = bookableAfter(now, found.minimumNoticeMinutes);
    const claimed = await occupy(changes, slotId, init.status, { startsAfter, seenStatus: found.slot.status });
    if (!claimed) throw slotUnavailable();
    const inserted = await insertBooking(changes.tx, {
      slotId,
      providerId: claimed.providerId,
      customerId: v.userId,
      status: init.status,
      holdExpiresAt: init.holdExpiresAt,
      idempotencyKey: key,
      createdAt: now,
      updatedAt: now,
    });
    if (inserted.kind === "idempotency-key-taken") throw new IdempotencyKeyTaken();
    if (inserted.kind === "slot-taken") throw slotUnavailable();
    const recorded: RecordedChange[] = [{ eventType: "BOOKING_CREATED", from: null, to: "PENDING", actorId: v.userId, reason: null }];
    if (init.status === "CONFIRMED") {
      recorded.push({ eventType: "BOOKING_CONFIRMED", from: "PENDING", to: "CONFIRMED", actorId: null, reason: AUTO_CONFIRM_REASON });
    }
    await changes.recordBooking(inserted.booking, claimed, recorded);
    return inserted.booking;
  }

  /**
   * The customer's booking made with `key`, if any. The key names the request, so it is
   * compared with the slot that request named, not the one a reschedule has since moved it to.
   */
  private async findReplay(customerId: string, key: string, slotId: string): Promise<BookingRow | undefined> {
    const existing = await findBookingByIdempotencyKey(this.deps.db, customerId, key);
    if (existing && (existing.requestedSlotId ?? existing.slotId) !== slotId) {
      throw new ConflictError("IDEMPOTENCY_KEY_REUSED", "This idempotency key was already used for another slot");
    }
    return existing;
  }
}

function slotUnavailable(): ConflictError {
  return new ConflictError("SLOT_UNAVAILABLE", "The slot is no longer available");
}

/** A concurrent request with the same idempotency key committed first; its booking is the answer. */
class IdempotencyKeyTaken extends Error {
  constructor() {
    super("a concurrent request with this idempotency key committed first");
  }
}

function isSlotUnavailable(err: unknown): boolean {
  return err instanceof ConflictError && err.reason === "SLOT_UNAVAILABLE";
}
