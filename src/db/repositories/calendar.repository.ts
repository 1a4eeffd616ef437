import { and, asc, eq, gte, lt, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { DbOrTx } from "../client";
import { bookingStatusChanges, bookings, calendarFeeds, providers, slots, users, type BookingRow, type CalendarFeedRow } from "../schema";

/**
 * Reads behind the calendar invites (e-mail) and feeds. SEQUENCE (RFC 5545 §3.8.7.4) is derived
 * from committed history, never stored: the number of the booking's history rows up to and
 * including the change, minus one. Every status change and every reschedule adds a history row;
 * reminders add none, so a reminder repeats the current SEQUENCE. The feed's SEQUENCE (all rows,
 * minus one) equals the one of the newest invite sent for the booking.
 */

/** The change an event describes, to find its place in the booking's history. */
export interface HistoryPosition {
  bookingId: string;
  /** The change's commit instant (the envelope's `timestamp`), ms precision like `at`. */
  at: Date;
  status: BookingRow["status"];
  previousStatus: BookingRow["status"] | null;
}

/**
 * SEQUENCE of the invite for the event at `p`: history rows committed before `p.at`, plus those of
 * the same commit up to the row matching the event's transition (a booking created and confirmed
 * at once has two rows with one instant: its BOOKING_CREATED gets n, its BOOKING_CONFIRMED n+1).
 * An event without a row of its own (a reminder) counts only the earlier rows.
 *
 * @returns 0 or more
 */
export async function findInviteSequence(db: DbOrTx, p: HistoryPosition): Promise<number> {
  const h = bookingStatusChanges;
  const own = sql`(select min(${h.id}) from ${h} where ${h.bookingId} = ${p.bookingId} and ${h.at} = ${p.at.toISOString()}::timestamptz
      and ${h.toStatus} = ${p.status}::booking_status and ${h.fromStatus} is not distinct from ${p.previousStatus}::booking_status)`;
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(h)
    .where(and(eq(h.bookingId, p.bookingId), or(lt(h.at, p.at), and(eq(h.at, p.at), sql`${h.id} <= coalesce(${own}, 0)`))));
  return Math.max((row?.n ?? 0) - 1, 0);
}

/** A booking in a feed, with everything its VEVENT names. */
export interface FeedBookingRow {
  bookingId: string;
  status: BookingRow["status"];
  updatedAt: Date;
  startsAt: Date;
  endsAt: Date;
  providerName: string;
  timeZone: string;
  ownerName: string;
  ownerEmail: string;
  customerName: string;
  customerEmail: string;
  /** History rows minus one (see the module comment). */
  sequence: number;
}

/**
 * Bookings of `userId` as customer, or of any provider `userId` owns, whose slot starts in
 * [from, to), by start.
 */
export async function findFeedBookings(db: DbOrTx, userId: string, from: Date, to: Date): Promise<FeedBookingRow[]> {
  const owner = alias(users, "owner");
  const customer = alias(users, "customer");
  const h = bookingStatusChanges;
  return db
    .select({
      bookingId: bookings.id,
      status: bookings.status,
      updatedAt: bookings.updatedAt,
      startsAt: slots.startsAt,
      endsAt: slots.endsAt,
      providerName: providers.name,
      timeZone: providers.timeZone,
      ownerName: owner.name,
      ownerEmail: owner.email,
      customerName: customer.name,
      customerEmail: customer.email,
      sequence: sql<number>`greatest((select count(*) from ${h} where ${h.bookingId} = ${bookings.id}) - 1, 0)::int`,
    })
    .from(bookings)
    .innerJoin(slots, eq(slots.id, bookings.slotId))
    .innerJoin(providers, eq(providers.id, bookings.providerId))
    .innerJoin(owner, eq(owner.id, providers.ownerId))
    .innerJoin(customer, eq(customer.id, bookings.customerId))
    .where(and(or(eq(bookings.customerId, userId), eq(providers.ownerId, userId)), gte(slots.startsAt, from), lt(slots.startsAt, to)))
    .orderBy(asc(slots.startsAt), asc(bookings.id));
}

/** The people an e-mail about a booking goes to, read when it is sent. */
export interface BookingParties {
  providerName: string;
  timeZone: string;
  owner: { id: string; name: string; email: string };
  customer: { id: string; name: string; email: string };
}

/** Provider, its owner and the customer; undefined when either is gone. */
export async function findBookingParties(db: DbOrTx, providerId: string, customerId: string): Promise<BookingParties | undefined> {
  const owner = alias(users, "owner");
  const [provider] = await db
    .select({ name: providers.name, timeZone: providers.timeZone, ownerId: owner.id, ownerName: owner.name, ownerEmail: owner.email })
    .from(providers)
    .innerJoin(owner, eq(owner.id, providers.ownerId))
    .where(eq(providers.id, providerId));
  const [customer] = await db.select({ id: users.id, name: users.name, email: users.email }).from(users).where(eq(users.id, customerId));
  if (!provider || !customer) return undefined;
  return {
    providerName: provider.name,
    timeZone: provider.timeZone,
    owner: { id: provider.ownerId, name: provider.ownerName, email: provider.ownerEmail },
    customer,
  };
}

export async function findCalendarFeedByUser(db: DbOrTx, userId: string): Promise<CalendarFeedRow | undefined> {
  const [row] = await db.select().from(calendarFeeds).where(eq(calendarFeeds.userId, userId));
  return row;
}

export async function findCalendarFeedByTokenHash(db: DbOrTx, tokenHash: string): Promise<CalendarFeedRow | undefined> {
  const [row] = await db.select().from(calendarFeeds).where(eq(calendarFeeds.tokenHash, tokenHash));
  return row;
}

/** Creates the user's feed unless one exists (a concurrent first read keeps the winner's). */
export async function insertCalendarFeedIfAbsent(db: DbOrTx, values: { userId: string; nonce: string; tokenHash: string }): Promise<void> {
  await db.insert(calendarFeeds).values(values).onConflictDoNothing({ target: calendarFeeds.userId });
}

/** Sets the user's feed to a new token (creating it if needed); the old token stops matching. */
export async function replaceCalendarFeed(db: DbOrTx, values: { userId: string; nonce: string; tokenHash: string }): Promise<void> {
  await db
    .insert(calendarFeeds)
    .values(values)
    .onConflictDoUpdate({ target: calendarFeeds.userId, set: { nonce: values.nonce, tokenHash: values.tokenHash, createdAt: sql`now()` } });
}
