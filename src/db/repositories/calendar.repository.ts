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

/** The change an event describes, to find its row in the booking's history. */
export interface HistoryPosition {
  bookingId: string;
  /** The change's commit instant (the envelope's `timestamp`): the same value as its row's `at`. */
  at: Date;
  status: BookingRow["status"];
  previousStatus: BookingRow["status"] | null;
  /** User id of the actor; null for the system. */
  actorId: string | null;
  reason: string | null;
}

/**
 * SEQUENCE of the invite for the event at `p`: the booking's history rows up to and including the
 * event's own row, minus one, in row (commit) order, so clocks that differ between instances do
 * not matter. The own row is the one with the event's instant, transition, actor and reason; an
 * event without a row (a reminder) counts the rows committed at or before its instant.
 *
 * Limit: two changes of one booking identical in transition, actor and reason in the same
 * millisecond cannot be told apart; both get the later one's SEQUENCE, and the later DTSTAMP
 * decides between them (RFC 5546 §2.1.5).
 *
 * @returns 0 or more
 */
export async function findInviteSequence(db: DbOrTx, p: HistoryPosition): Promise<number> {
  const h = bookingStatusChanges;
  const at = sql`${p.at.toISOString()}::timestamptz`;
  const own = sql`(select max(${h.id}) from ${h} where ${h.bookingId} = ${p.bookingId} and ${h.at} = ${at}
      and ${h.toStatus} = ${p.status}::booking_status and ${h.fromStatus} is not distinct from ${p.previousStatus}::booking_status
      and ${h.actorId} is not distinct from ${p.actorId}::uuid and ${h.reason} is not distinct from ${p.reason}::text)`;
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(h)
    .where(and(eq(h.bookingId, p.bookingId), sql`coalesce(${h.id} <= ${own}, ${h.at} <= ${at})`));
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
