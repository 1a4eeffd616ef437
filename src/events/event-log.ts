import { Repeater } from "@graphql-yoga/subscription";
import type { Db } from "../db/client";
import { encodeEventCursor, type EventLogPosition } from "../db/event-cursor";
import { listLoggedEvents, type EventLogScope, type LoggedEventRow } from "../db/repositories/event-log.repository";
import type { BookingEventEnvelope } from "./envelope";
import type { BookingEventMessage, BookingSnapshot, LivePubSub } from "./pubsub";
import { toBookingSnapshot } from "./snapshots";

/** One event of the log with its opaque cursor (pass it as `after` to continue after it). */
export interface EventLogEdge {
  cursor: string;
  position: EventLogPosition;
  message: BookingEventMessage;
}

function bookingOf(row: LoggedEventRow, event: BookingEventEnvelope): BookingSnapshot {
  if (row.booking) return row.booking as BookingSnapshot;
  // Rows written without a snapshot: the booking's lasting fields as they are now, with the
  // status and slot the event itself records.
  const current = row.currentBooking;
  const base: BookingSnapshot = current
    ? toBookingSnapshot(current)
    : { id: event.bookingId, status: event.status, slotId: event.slotId, providerId: event.providerId, customerId: event.userId, createdAt: event.timestamp, updatedAt: event.timestamp, holdExpiresAt: null, reason: event.reason };
  return { ...base, status: event.status, slotId: event.slotId };
}

function toEdge(row: LoggedEventRow): EventLogEdge {
  const event = row.payload as BookingEventEnvelope;
  return { cursor: encodeEventCursor(row.position), position: row.position, message: { event, booking: bookingOf(row, event) } };
}

/**
 * Up to `limit` committed events of `scope` after `after`, oldest first (log order; see
 * `listLoggedEvents` for why no later-committing transaction can land before a returned cursor).
 */
export async function readEventLog(db: Db, scope: EventLogScope, after: EventLogPosition | undefined, limit: number): Promise<EventLogEdge[]> {
  return (await readEventLogAhead(db, scope, after, limit)).edges;
}

/** {@link readEventLog}, also telling whether committed events wait behind the horizon. */
export async function readEventLogAhead(db: Db, scope: EventLogScope, after: EventLogPosition | undefined, limit: number): Promise<{ edges: EventLogEdge[]; heldBack: boolean }> {
  const read = await listLoggedEvents(db, { scope, after, limit });
  return { edges: read.rows.map(toEdge), heldBack: read.heldBack };
}

export interface FollowOptions {
  /** Rows read per query while catching up. Default 100. */
  batchSize?: number;
  /** Re-reads the log this often with no wake-up at all (a lost pub/sub message), in ms. Default 10 000. */
  idlePollMs?: number;
  /**
   * After a wake-up for an event the log does not show yet (another transaction still holds the
   * horizon back), re-reads after this delay, doubling up to `retryMaxMs`, in ms. Default 25.
   */
  retryBaseMs?: number;
  /** Ceiling of that backoff, in ms. Default 1 000. */
  retryMaxMs?: number;
  /** How long a wake-up is waited for before leaving it to the idle poll, in ms. Default 60 000. */
  wakeupTtlMs?: number;
}

/** Remembers the last `capacity` event ids delivered, to ignore wake-ups for them. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
  }
  has(id: string): boolean {
    return this.ids.has(id);
  }
}

/** Whichever comes first: the next wake-up (if any), `delayMs` passing, or the stream stopping. */
async function firstOf<T>(wakeup: Promise<T> | undefined, delayMs: number, stopping: Promise<void>): Promise<T | "timeout" | "stop"> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      wakeup ?? new Promise<never>(() => undefined),
      new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), delayMs))),
      stopping.then(() => "stop" as const),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every committed event of `scope` after `after`, then every later one as it commits, each once,
 * in log order, until the consumer stops. Events are only ever read from the log: a live pub/sub
 * message (from any instance, through Redis) is just a wake-up to read the log after the last
 * cursor, so replay and live phase cannot overlap, repeat or reorder events, and a wake-up that
 * arrives before its event is below the horizon (or a read that sees committed events still
 * above it) is retried with backoff until it is.
 */
export function followEventLog(db: Db, pubSub: LivePubSub | undefined, scope: EventLogScope, after: EventLogPosition | undefined, opts: FollowOptions = {}): AsyncIterableIterator<EventLogEdge> {
  const batchSize = opts.batchSize ?? 100;
  const idlePollMs = opts.idlePollMs ?? 10_000;
  const retryBaseMs = opts.retryBaseMs ?? 25;
  const retryMaxMs = Math.min(opts.retryMaxMs ?? 1_000, idlePollMs);
  const wakeupTtlMs = opts.wakeupTtlMs ?? 60_000;
  return new Repeater<EventLogEdge>(async (push, stop) => {
    let stopped = false;
    const stopping = stop.then(() => {
      stopped = true;
    });
    // Subscribed before the first read, so no event committed during the replay goes unnoticed.
    const wakeups = pubSub
      ? "bookingId" in scope
        ? pubSub.subscribeTopic("BOOKING_EVENTS", scope.bookingId)
        : pubSub.subscribeTopic("PROVIDER_BOOKING_EVENTS", scope.providerId)
      : undefined;
    let nextWakeup = wakeups?.next();
    const awaited = new Map<string, number>();
    const delivered = new RecentIds(4096);
    let cursor = after;
    let retryMs = retryBaseMs;
    let read = true;
    let heldBack = false;
    try {
      while (!stopped) {
        while (read && !stopped) {
          const page = await readEventLogAhead(db, scope, cursor, batchSize);
          const edges = page.edges;
          heldBack = page.heldBack;
          for (const edge of edges) {
            if (stopped) return;
            cursor = edge.position;
            delivered.add(edge.message.event.eventId);
            awaited.delete(edge.message.event.eventId);
            await Promise.race([push(edge), stopping]);
          }
          read = edges.length === batchSize;
        }
        const now = Date.now();
        for (const [id, deadline] of awaited) if (deadline < now) awaited.delete(id);
        const waiting = awaited.size > 0 || heldBack;
        const delay = waiting ? retryMs : idlePollMs;
        const woke = await firstOf(nextWakeup, delay, stopping);
        if (woke === "stop") break;
        if (woke === "timeout") {
          retryMs = waiting ? Math.min(retryMs * 2, retryMaxMs) : retryBaseMs;
          read = true;
          continue;
        }
        nextWakeup = woke.done ? undefined : wakeups!.next();
        if (woke.done) continue;
        // A wake-up for an event already delivered (the replay got there first) needs no read.
        const eventId = woke.value.event.eventId;
        if (!delivered.has(eventId)) {
          awaited.set(eventId, Date.now() + wakeupTtlMs);
          retryMs = retryBaseMs;
          read = true;
        }
      }
    } finally {
      await wakeups?.return?.();
    }
  });
}
