import type { Db } from "../db/client";
import type { EventLogPosition } from "../db/event-cursor";
import { pruneDeliveredEvents, type EventLogScope } from "../db/repositories/event-log.repository";
import type { Clock } from "../domain/clock";
import { BadInputError } from "../domain/errors";
import { followEventLog, readEventLogAhead, type EventLogEdge, type FollowOptions } from "../events/event-log";
import type { LivePubSub } from "../events/pubsub";
import { requireViewer } from "./access";
import { decodeEventCursor, parsePageSize } from "./page-input";
import type { BookingQueryService } from "./booking-query.service";
import type { Viewer } from "../domain/viewer";

/** Arguments of `bookingEvents` / `bookingEventStream`: exactly one of bookingId and providerId. */
export interface EventLogArgs {
  bookingId?: string | null;
  providerId?: string | null;
  /** A cursor from an earlier edge; none: from the oldest event kept. */
  after?: string | null;
}

/** One page of the log. `endCursor` is the last edge's cursor, or `after` when the page is empty. */
export interface EventLogPage {
  edges: EventLogEdge[];
  hasNextPage: boolean;
  endCursor: string | null;
}

const DAY_MS = 24 * 60 * 60_000;
const PRUNE_BATCH = 1_000;

/** What {@link EventLogService} needs. */
export interface EventLogDeps {
  db: Db;
  clock: Clock;
  /** Authorises reads of a booking's or a provider's events. */
  bookingQuery: BookingQueryService;
  /** Wakes streams when an event commits; none: they poll. */
  pubSub?: LivePubSub;
  /** Days delivered events are kept (config `EVENT_RETENTION_DAYS`). */
  retentionDays: number;
  /** Timings of event-log streams (tests shorten them). */
  followOptions?: FollowOptions;
}

/**
 * The event log (issue 14): every committed booking event, kept for `retentionDays` after it was
 * delivered everywhere, read page by page (`bookingEvents`) or followed live from a cursor
 * (`bookingEventStream`). Access: a booking's events to its customer, its provider's owner and
 * admins (NOT_FOUND to anyone else, as the booking itself); a provider's to its owner and admins.
 */
export class EventLogService {
  constructor(private readonly deps: EventLogDeps) {}

  /**
   * One page of committed events, oldest first.
   * @param first - page size, 1..100, default 20
   * @throws UnauthenticatedError; BadInputError for both or neither id, a malformed id, a bad
   *   `first`, or a cursor that is not one of ours; NotFoundError / ForbiddenError per the access rules
   */
  async listEvents(viewer: Viewer | null, args: EventLogArgs & { first?: number | null }): Promise<EventLogPage> {
    requireViewer(viewer);
    const limit = parsePageSize(args.first);
    const after = args.after ? decodeEventCursor(args.after) : undefined;
    const scope = await this.authorize(viewer, args);
    const rows = await this.readSettled(scope, after, limit + 1);
    const edges = rows.slice(0, limit);
    return { edges, hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? args.after ?? null };
  }

  /**
   * Every committed event after `after`, then live ones, each exactly once in log order, across
   * instances and reconnects (resume with the cursor of the last edge received). Authorised once,
   * before anything is streamed.
   * @throws as {@link listEvents}
   */
  async followEvents(viewer: Viewer | null, args: EventLogArgs): Promise<AsyncIterableIterator<EventLogEdge>> {
    requireViewer(viewer);
    const after = args.after ? decodeEventCursor(args.after) : undefined;
    const scope = await this.authorize(viewer, args);
    return followEventLog(this.deps.db, this.deps.pubSub, scope, after, this.deps.followOptions);
  }

  /**
   * Deletes the events delivered everywhere more than `retentionDays` ago (by the clock), in
   * batches, until none is left. Safe in several instances at once.
   * @returns how many events were deleted
   */
  async pruneExpiredEvents(): Promise<number> {
    const deliveredBefore = new Date(this.deps.clock.now().getTime() - this.deps.retentionDays * DAY_MS);
    let total = 0;
    for (;;) {
      const n = await pruneDeliveredEvents(this.deps.db, { deliveredBefore, limit: PRUNE_BATCH });
      total += n;
      if (n < PRUNE_BATCH) return total;
    }
  }

  /**
   * Reads a page; while committed events of the scope still wait behind the horizon (a transaction
   * that began earlier is finishing), reads again a few times, about 300 ms in all, so a caller
   * usually sees its own change at once. Whatever is still held back comes in a later read.
   */
  private async readSettled(scope: EventLogScope, after: EventLogPosition | undefined, limit: number): Promise<EventLogEdge[]> {
    let read = await readEventLogAhead(this.deps.db, scope, after, limit);
    for (let wait = 10; read.heldBack && read.edges.length < limit && wait <= 160; wait *= 2) {
      await new Promise((r) => setTimeout(r, wait));
      read = await readEventLogAhead(this.deps.db, scope, after, limit);
    }
    return read.edges;
  }

  private async authorize(viewer: Viewer | null, args: EventLogArgs): Promise<EventLogScope> {
    const hasBooking = args.bookingId !== null && args.bookingId !== undefined;
    const hasProvider = args.providerId !== null && args.providerId !== undefined;
    if (hasBooking === hasProvider) throw new BadInputError("Give exactly one of bookingId and providerId", hasBooking ? "providerId" : "bookingId");
    if (hasBooking) return { bookingId: await this.deps.bookingQuery.authorizeBookingSubscription(viewer, args.bookingId!) };
    return { providerId: await this.deps.bookingQuery.authorizeProviderSubscription(viewer, args.providerId!) };
  }
}
