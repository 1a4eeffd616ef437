import { and, asc, desc, eq, gt, inArray, lt, lte, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { toPage, type KeysetPosition, type Page } from "../cursor";
import { expectOutcomes } from "../pg-error";
import { bookingReminders, bookingStatusChanges, bookings, providers, slots, type BookingRow, type BookingStatusChangeRow, type SlotRow } from "../schema";

import type { BookingStatus } from "../../domain/enums";
export type { BookingStatus };

/**
 * Inserts a booking.
 * @returns the booking; `{ kind: "slot-taken" }` when the slot already has an active booking, or
 *   `{ kind: "idempotency-key-taken" }` when the customer used the key before (inside a
 *   transaction, either outcome leaves it aborted: end it)
 */
export async function insertBooking(
  db: DbOrTx,
  values: {
    slotId: string;
    /** The slot the request named; default `slotId`. */
    requestedSlotId?: string;
    providerId: string;
    customerId: string;
    status: BookingStatus;
    holdExpiresAt: Date | null;
    idempotencyKey: string | null;
    createdAt: Date;
    updatedAt: Date;
  },
): Promise<{ kind: "inserted"; booking: BookingRow } | { kind: "slot-taken" } | { kind: "idempotency-key-taken" }> {
  const rows = await expectOutcomes(
    db
      .insert(bookings)
      .values({ ...values, requestedSlotId: values.requestedSlotId ?? values.slotId })
      .returning(),
    ["slot-taken", "idempotency-key-taken"],
  );
  return "kind" in rows ? rows : { kind: "inserted", booking: rows[0]! };
}

/** Reads a booking; `forUpdate` locks the row until the transaction ends. */
export async function findBookingById(db: DbOrTx, id: string, opts: { forUpdate?: boolean } = {}): Promise<BookingRow | undefined> {
  const q = db.select().from(bookings).where(eq(bookings.id, id)).limit(1);
  const [row] = opts.forUpdate ? await q.for("update") : await q;
  return row;
}

export async function findBookingsByIds(db: DbOrTx, ids: readonly string[]): Promise<BookingRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(bookings).where(inArray(bookings.id, [...ids]));
}

export async function findBookingByIdempotencyKey(db: DbOrTx, customerId: string, key: string): Promise<BookingRow | undefined> {
  const [row] = await db
    .select()
    .from(bookings)
    .where(and(eq(bookings.customerId, customerId), eq(bookings.idempotencyKey, key)))
    .limit(1);
  return row;
}

/**
 * Moves a booking from `from` to `to`, only if it is still in `from` (optimistic guard
 * on top of the row lock). Clears the hold when leaving PENDING.
 */
export async function updateBookingStatus(
  db: DbOrTx,
  id: string,
  from: BookingStatus,
  values: { status: BookingStatus; reason: string | null; updatedAt: Date },
): Promise<BookingRow | undefined> {
  const [row] = await db
    .update(bookings)
    .set({ ...values, holdExpiresAt: values.status === "PENDING" ? undefined : null })
    .where(and(eq(bookings.id, id), eq(bookings.status, from)))
    .returning();
  return row;
}

/** Bookings of one customer or one provider, newest first, keyset-paginated. */
export async function listBookings(
  db: DbOrTx,
  opts: { customerId?: string; providerId?: string; status?: BookingStatus; limit: number; after?: KeysetPosition },
): Promise<Page<BookingRow>> {
  const { after } = opts;
  const rows = await db
    .select()
    .from(bookings)
    .where(
      and(
        opts.customerId ? eq(bookings.customerId, opts.customerId) : undefined,
        opts.providerId ? eq(bookings.providerId, opts.providerId) : undefined,
        opts.status ? eq(bookings.status, opts.status) : undefined,
        after
          ? or(lt(bookings.createdAt, after.createdAt), and(eq(bookings.createdAt, after.createdAt), lt(bookings.id, after.id)))
          : undefined,
      ),
    )
    .orderBy(desc(bookings.createdAt), desc(bookings.id))
    .limit(opts.limit + 1);
  return toPage(rows, opts.limit);
}

/** The INSERT of history rows, built but not run (for `executeTogether`); undefined when there are none. */
export function buildStatusChangesInsert(db: DbOrTx, values: readonly Omit<BookingStatusChangeRow, "id">[]) {
  return values.length === 0 ? undefined : db.insert(bookingStatusChanges).values([...values]);
}

/** History of several bookings, each in the order it happened. */
export async function findStatusChangesByBookingIds(db: DbOrTx, ids: readonly string[]): Promise<BookingStatusChangeRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(bookingStatusChanges)
    .where(inArray(bookingStatusChanges.bookingId, [...ids]))
    .orderBy(asc(bookingStatusChanges.bookingId), asc(bookingStatusChanges.id));
}

/**
 * Locks up to `limit` PENDING bookings whose hold ran out by `now`, skipping rows another
 * worker holds (`FOR UPDATE SKIP LOCKED`), oldest hold first.
 */
export async function lockLapsedHolds(db: DbOrTx, now: Date, limit: number): Promise<BookingRow[]> {
  return db
    .select()
    .from(bookings)
    .where(and(eq(bookings.status, "PENDING"), lte(bookings.holdExpiresAt, now)))
    .orderBy(asc(bookings.holdExpiresAt))
    .limit(limit)
    .for("update", { skipLocked: true });
}

/** The PENDING booking holding `slotId` if its hold ran out by `now`, locked. */
export async function lockLapsedHoldOnSlot(db: DbOrTx, slotId: string, now: Date): Promise<BookingRow | undefined> {
  const [row] = await db
    .select()
    .from(bookings)
    .where(and(eq(bookings.slotId, slotId), eq(bookings.status, "PENDING"), lte(bookings.holdExpiresAt, now)))
    .limit(1)
    .for("update");
  return row;
}

/** Moves a locked active booking to another slot with a new status and hold. */
export async function moveBooking(
  db: DbOrTx,
  id: string,
  from: BookingStatus,
  values: { slotId: string; status: BookingStatus; holdExpiresAt: Date | null; updatedAt: Date },
): Promise<BookingRow | undefined> {
  const [row] = await db
    .update(bookings)
    .set(values)
    .where(and(eq(bookings.id, id), eq(bookings.status, from)))
    .returning();
  return row;
}

/**
 * CONFIRMED bookings starting in the future that have at least one reminder offset due
 * (its moment has passed) and not yet decided, soonest first, locked with
 * `FOR UPDATE SKIP LOCKED` so concurrent reminder workers split the work. Filtering on
 * undecided offsets keeps a full batch of already-reminded bookings from starving later ones.
 *
 * @param offsets - minutes before the start (positive integers from config)
 */
export async function lockBookingsDueForReminder(
  db: DbOrTx,
  now: Date,
  offsets: readonly number[],
  limit: number,
): Promise<{ booking: BookingRow; slot: SlotRow }[]> {
  if (!offsets.every((o) => Number.isInteger(o) && o > 0)) throw new Error("reminder offsets must be positive integers");
  const offsetArray = sql.raw(`ARRAY[${offsets.join(",")}]::int[]`);
  const nowIso = now.toISOString();
  return db
    .select({ booking: bookings, slot: slots })
    .from(bookings)
    .innerJoin(slots, eq(slots.id, bookings.slotId))
    .where(
      and(
        eq(bookings.status, "CONFIRMED"),
        eq(slots.status, "BOOKED"),
        gt(slots.startsAt, now),
        lte(slots.startsAt, new Date(now.getTime() + Math.max(...offsets) * 60_000)),
        sql`exists (
          select 1 from unnest(${offsetArray}) as due(minutes)
          where ${slots.startsAt} - due.minutes * interval '1 minute' <= ${nowIso}::timestamptz
            and not exists (
              select 1 from ${bookingReminders} r
              where r.booking_id = ${bookings.id} and r.offset_minutes = due.minutes and r.slot_starts_at = ${slots.startsAt}
            )
        )`,
      ),
    )
    .orderBy(asc(slots.startsAt))
    .limit(limit)
    .for("update", { of: bookings, skipLocked: true });
}

/** Offsets already decided for a booking at a given slot start. */
export async function findDecidedReminderOffsets(db: DbOrTx, bookingId: string, slotStartsAt: Date): Promise<Set<number>> {
  const rows = await db
    .select({ offset: bookingReminders.offsetMinutes })
    .from(bookingReminders)
    .where(and(eq(bookingReminders.bookingId, bookingId), eq(bookingReminders.slotStartsAt, slotStartsAt)));
  return new Set(rows.map((r) => r.offset));
}

/**
 * Records reminder decisions; the primary key (booking, offset, slot start) makes each
 * happen once. @returns the offsets this call recorded (others were already decided)
 */
export async function insertReminderDecisions(
  db: DbOrTx,
  values: readonly { bookingId: string; offsetMinutes: number; slotStartsAt: Date; emitted: boolean; decidedAt: Date }[],
): Promise<number[]> {
  if (values.length === 0) return [];
  const rows = await db
    .insert(bookingReminders)
    .values([...values])
    .onConflictDoNothing()
    .returning({ offset: bookingReminders.offsetMinutes });
  return rows.map((r) => r.offset);
}

/**
 * Which of `userIds` share at least one booking (any status) with `viewerId`: as the customer of a
 * booking with a provider they own, or as the owner of a provider `viewerId` booked. One query for
 * the whole batch (the `sharesBooking` DataLoader).
 */
export async function findUsersSharingBookingWith(db: DbOrTx, viewerId: string, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const ids = [...userIds];
  const rows = await db
    .selectDistinct({ customerId: bookings.customerId, ownerId: providers.ownerId })
    .from(bookings)
    .innerJoin(providers, eq(providers.id, bookings.providerId))
    .where(
      or(
        and(eq(bookings.customerId, viewerId), inArray(providers.ownerId, ids)),
        and(eq(providers.ownerId, viewerId), inArray(bookings.customerId, ids)),
      ),
    );
  return new Set(rows.map((r) => (r.customerId === viewerId ? r.ownerId : r.customerId)));
}
