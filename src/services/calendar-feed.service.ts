import { createHash, createHmac, randomBytes } from "node:crypto";
import type { Db } from "../db/client";
import {
  findCalendarFeedByTokenHash,
  findCalendarFeedByUser,
  findFeedBookings,
  insertCalendarFeedIfAbsent,
  replaceCalendarFeed,
} from "../db/repositories/calendar.repository";
import { findUserById } from "../db/repositories/user.repository";
import { buildBookingFeed } from "../domain/calendar-invite";
import type { Clock } from "../domain/clock";
import { SCHEDULE_LIMITS } from "../domain/schedule";
import { requireViewer } from "./access";
import type { Viewer } from "../domain/viewer";

const DAY_MS = 24 * 60 * 60 * 1000;
/** How far back a feed reaches, in days (contract part 6). */
export const FEED_PAST_DAYS = 30;
/** How far ahead: the longest horizon a schedule can sell, in days. */
export const FEED_FUTURE_DAYS = SCHEDULE_LIMITS.horizonDays.max;
/** Path of the feed route; the token follows it. */
export const CALENDAR_FEED_PATH = "/calendar";
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** What {@link CalendarFeedService} needs. */
export interface CalendarFeedDeps {
  db: Db;
  clock: Clock;
  /** Server secret the token key is derived from. */
  secret: string;
  /** Public origin the URL starts with (e.g. `https://api.example.com`), read per call. */
  baseUrl: () => string;
}

/**
 * Secret per-user iCalendar feeds (contract part 6, `User.calendarFeedUrl`).
 *
 * The token in the URL is base64url(HMAC-SHA256(key, `userId:nonce`)) with a random 256-bit
 * nonce per user and a key derived from the server secret (`JWT_SECRET`): 256 bits nobody can
 * guess, shown again on every read without being stored. The database keeps the nonce and the
 * token's SHA-256 only, so a leaked table yields no working URL. Rotating draws a new nonce: the
 * old token's hash no longer matches any row and its URL answers 404.
 *
 * Without `JWT_SECRET` (development) the key is random per process, so a restart changes the URL.
 */
export class CalendarFeedService {
  private readonly key: Buffer;

  constructor(private readonly deps: CalendarFeedDeps) {
    this.key = createHmac("sha256", deps.secret).update("slotwise calendar feed v1").digest();
  }

  /**
   * The feed URL of `userId`, creating the feed on first read; null unless the viewer is that user.
   */
  async feedUrl(viewer: Viewer | null, userId: string): Promise<string | null> {
    if (!viewer || viewer.userId !== userId) return null;
    let row = await findCalendarFeedByUser(this.deps.db, userId);
    if (!row) {
      const nonce = randomBytes(32).toString("base64url");
      await insertCalendarFeedIfAbsent(this.deps.db, { userId, nonce, tokenHash: hashToken(this.tokenFor(userId, nonce)) });
      row = await findCalendarFeedByUser(this.deps.db, userId);
      if (!row) throw new Error(`calendar feed of ${userId} vanished after insert`);
    }
    const token = this.tokenFor(userId, row.nonce);
    // The server secret changed (a development restart): re-key the same nonce so the URL shown works.
    if (hashToken(token) !== row.tokenHash) await replaceCalendarFeed(this.deps.db, { userId, nonce: row.nonce, tokenHash: hashToken(token) });
    return this.urlOf(token);
  }

  /**
   * Replaces the viewer's feed token; the previous URL stops working at once.
   * @throws UnauthenticatedError when anonymous
   */
  async rotate(viewer: Viewer | null): Promise<string> {
    const v = requireViewer(viewer);
    const nonce = randomBytes(32).toString("base64url");
    const token = this.tokenFor(v.userId, nonce);
    await replaceCalendarFeed(this.deps.db, { userId: v.userId, nonce, tokenHash: hashToken(token) });
    return this.urlOf(token);
  }

  /**
   * The iCalendar text of the feed `token` opens: one VEVENT per booking of its user (as customer,
   * and of every provider the user owns) starting from {@link FEED_PAST_DAYS} days ago up to
   * {@link FEED_FUTURE_DAYS} days ahead. Undefined when the token opens no feed.
   */
  async render(token: string): Promise<string | undefined> {
    const bare = token.endsWith(".ics") ? token.slice(0, -4) : token;
    if (!TOKEN_PATTERN.test(bare)) return undefined;
    const feed = await findCalendarFeedByTokenHash(this.deps.db, hashToken(bare));
    if (!feed) return undefined;
    const user = await findUserById(this.deps.db, feed.userId);
    if (!user) return undefined;
    const now = this.deps.clock.now().getTime();
    const rows = await findFeedBookings(this.deps.db, user.id, new Date(now - FEED_PAST_DAYS * DAY_MS), new Date(now + FEED_FUTURE_DAYS * DAY_MS));
    return buildBookingFeed(
      `Slotwise: ${user.name}`,
      rows.map((r) => ({
        bookingId: r.bookingId,
        status: r.status,
        sequence: r.sequence,
        start: r.startsAt,
        end: r.endsAt,
        timeZone: r.timeZone,
        serviceName: r.providerName,
        providerName: r.providerName,
        organizer: { name: r.ownerName, email: r.ownerEmail },
        attendee: { name: r.customerName, email: r.customerEmail },
        stamp: r.updatedAt,
      })),
    );
  }

  private tokenFor(userId: string, nonce: string): string {
    return createHmac("sha256", this.key).update(`${userId}:${nonce}`).digest("base64url");
  }

  private urlOf(token: string): string {
    return `${this.deps.baseUrl().replace(/\/+$/, "")}${CALENDAR_FEED_PATH}/${token}.ics`;
  }
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
