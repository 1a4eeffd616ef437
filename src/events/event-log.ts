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

/** Where one follower is: its cursor and what it waits for. */
interface FollowState {
  cursor: EventLogPosition | undefined;
  /** Event ids a wake-up announced that the log did not show yet, with the deadline (ms) to wait for each. */
  awaited: Map<string, number>;
  delivered: RecentIds;
  retryMs: number;
  /** Whether the log must be read (again) before waiting. */
  read: boolean;
  /** Whether the last read saw committed events held back behind the horizon. */
  heldBack: boolean;
  stopped: boolean;
}

/** Reads and pushes pages of the log until one is short (or the stream stops). */
async function catchUp(
  db: Db,
  scope: EventLogScope,
  state: FollowState,
  batchSize: number,
  push: (edge: EventLogEdge) => Promise<unknown>,
  stopping: Promise<void>,
): Promise<void> {
  while (state.read && !state.stopped) {
    const page = await readEventLogAhead(db, scope, state.cursor, batchSize);
    state.heldBack = page.heldBack;
    for (const edge of page.edges) {
      if (state.stopped) return;
      state.cursor = edge.position;
      state.delivered.add(edge.message.event.eventId);
      state.awaited.delete(edge.message.event.eventId);
      await Promise.race([push(edge), stopping]);
    }
    state.read = page.edges.length === batchSize;
  }
}

/** Notes a wake-up for `eventId`: unless the replay already delivered it, read the log for it soon. */
function awaitEvent(state: FollowState, eventId: string, retryBaseMs: number, wakeupTtlMs: number): void {
  // A wake-up for an event already delivered (the replay got there first) needs no read.
  if (state.delivered.has(eventId)) return;
  state.awaited.set(eventId, Date.now() + wakeupTtlMs);
  state.retryMs = retryBaseMs;
  state.read = true;
}

/** Live messages of `scope`, used only as wake-ups; none without pub/sub. */
function subscribeWakeups(pubSub: LivePubSub | undefined, scope: EventLogScope): AsyncIterator<BookingEventMessage> | undefined {
  if (!pubSub) return undefined;
  return "bookingId" in scope ? pubSub.subscribeTopic("BOOKING_EVENTS", scope.bookingId) : pubSub.subscribeTopic("PROVIDER_BOOKING_EVENTS", scope.providerId);
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
    const state: FollowState = { cursor: after, awaited: new Map(), delivered: new RecentIds(4096), retryMs: retryBaseMs, read: true, heldBack: false, stopped: false };
    const stopping = stop.then(() => {
      state.stopped = true;
    });
    // Subscribed before the first read, so no event committed during the replay goes unnoticed.
    const wakeups = subscribeWakeups(pubSub, scope);
    let nextWakeup = wakeups?.next();
    try {
      while (!state.stopped) {
        await catchUp(db, scope, state, batchSize, push, stopping);
        if (state.stopped) return;
        const now = Date.now();
        for (const [id, deadline] of state.awaited) if (deadline < now) state.awaited.delete(id);
        const waiting = state.awaited.size > 0 || state.heldBack;
        const woke = await firstOf(nextWakeup, waiting ? state.retryMs : idlePollMs, stopping);
        if (woke === "stop") break;
        if (woke === "timeout") {
          state.retryMs = waiting ? Math.min(state.retryMs * 2, retryMaxMs) : retryBaseMs;
          state.read = true;
          continue;
        }
        nextWakeup = woke.done ? undefined : wakeups!.next();
        if (!woke.done) awaitEvent(state, woke.value.event.eventId, retryBaseMs, wakeupTtlMs);
      }
    } finally {
      await wakeups?.return?.();
    }
  });
}
