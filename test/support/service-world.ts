import { asc, eq } from "drizzle-orm";
import pino from "pino";
import { openDatabase, type Database, type Db } from "../../src/db/client";
import { bookingStatusChanges, bookings, outbox, slots, type OutboxRow, type SlotRow } from "../../src/db/schema";
import { ManualClock } from "../../src/domain/clock";
import { assembleServices } from "../../src/core";
import type { LivePublisher } from "../../src/events/live-publisher";
import { createInMemoryPubSub, type LivePubSub, type Topic, type TopicMap } from "../../src/events/pubsub";
import type { Services, Viewer } from "../../src/services";
import { TokenService } from "../../src/services/token.service";
import { createPostgresDatabase, requireService } from "./backends";

/**
 * Service-level harness: the real services over a real database (PGlite or PostgreSQL),
 * with a hand-moved clock and in-process pub/sub, and no HTTP in between.
 */

export const HOLD_MINUTES = 15;
export const MINUTE = 60_000;
const SECRET = "integration-secret-integration-secret-0123";

export interface OpenedBackend {
  database: Database;
  cleanup(): Promise<void>;
}

/** The two databases every service test runs on; `open` resolves null when the backend is unavailable. */
export const BACKENDS: readonly { name: string; open(): Promise<OpenedBackend | null> }[] = [
  {
    name: "PGlite",
    open: async () => {
      const database = await openDatabase({ pgliteDir: "memory://", poolMax: 1 });
      return { database, cleanup: () => database.close() };
    },
  },
  {
    name: "PostgreSQL",
    open: async () => {
      if (!(await requireService("postgres"))) return null;
      const pg = await createPostgresDatabase();
      // More than one connection, so a subscriber's read really comes from another session.
      const database = await openDatabase({ databaseUrl: pg.url, pgliteDir: "memory://", poolMax: 4 });
      return {
        database,
        cleanup: async () => {
          await database.close();
          await pg.drop();
        },
      };
    },
  },
];

/**
 * Opens and migrates the backend once per describe block. Tests register through
 * the returned `it`, which skips (returns early) when the backend was unavailable.
 */
export function useBackend(backend: (typeof BACKENDS)[number]): {
  db: () => Db;
  it: (name: string, fn: (db: Db) => Promise<void>) => void;
} {
  let opened: OpenedBackend | null = null;
  beforeAll(async () => {
    opened = await backend.open();
    await opened?.database.migrate();
  });
  afterAll(async () => {
    await opened?.cleanup();
  });
  const db = () => {
    if (!opened) throw new Error(`${backend.name} is not open`);
    return opened.database.db;
  };
  return {
    db,
    it: (name, fn) =>
      test(name, async () => {
        if (!opened) return; // requireService already warned (or threw under REQUIRE_SERVICES=1)
        await fn(opened.database.db);
      }),
  };
}

/** Fresh services per test: their own clock and pub/sub, over the shared database. */
export interface World {
  db: Db;
  clock: ManualClock;
  pubSub: LivePubSub;
  live: LivePublisher;
  services: Services;
}

export function makeWorld(db: Db, start = new Date("2031-03-10T08:00:00.000Z")): World {
  const clock = new ManualClock(start);
  const pubSub = createInMemoryPubSub();
  // The services as src/core.ts wires them, over a database shared by the file's worlds (no throttle, relay or workers).
  const { live, services } = assembleServices({
    db,
    clock,
    log: pino({ level: "silent" }),
    config: { bookingHoldMinutes: HOLD_MINUTES, refreshTokenTtlDays: 30, reminderOffsetsMinutes: [1440, 60] },
    tokens: new TokenService(SECRET, 900),
    pubSub,
  });
  return { db, clock, pubSub, live, services };
}

/** Whole-table row counts of everything a booking mutation writes. */
export async function countRows(db: Db): Promise<{ bookings: number; changes: number; outbox: number; slots: number }> {
  return {
    bookings: await db.$count(bookings),
    changes: await db.$count(bookingStatusChanges),
    outbox: await db.$count(outbox),
    slots: await db.$count(slots),
  };
}

export async function historyOf(db: Db, bookingId: string) {
  const rows = await db
    .select()
    .from(bookingStatusChanges)
    .where(eq(bookingStatusChanges.bookingId, bookingId))
    .orderBy(asc(bookingStatusChanges.id));
  return rows.map((r) => ({ from: r.fromStatus, to: r.toStatus, actor: r.actorId, reason: r.reason, at: r.at }));
}

export async function outboxOf(db: Db, bookingId: string): Promise<OutboxRow[]> {
  return db.select().from(outbox).where(eq(outbox.bookingId, bookingId)).orderBy(asc(outbox.id));
}

export async function slotStatus(db: Db, slotId: string): Promise<SlotRow["status"]> {
  const [row] = await db.select({ status: slots.status }).from(slots).where(eq(slots.id, slotId));
  if (!row) throw new Error(`slot ${slotId} not found`);
  return row.status;
}

export async function bookingRow(db: Db, bookingId: string) {
  const [row] = await db.select().from(bookings).where(eq(bookings.id, bookingId));
  return row;
}

/** Runs `fn` and returns the ConflictError-like domain error it throws (fails if it resolves). */
export async function rejection(fn: () => Promise<unknown>): Promise<{ code?: string; reason?: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    return err as { code?: string; reason?: string; message: string };
  }
  throw new Error("expected the call to fail, it succeeded");
}

/**
 * Follows one topic instance. `onMessage` runs as each message arrives (before the
 * next is taken), so it can look at the database at the moment of delivery.
 */
export function listen<K extends Topic>(
  pubSub: LivePubSub,
  topic: K,
  id: string,
  onMessage?: (m: TopicMap[K]) => void,
): { messages: TopicMap[K][]; stop(): Promise<void> } {
  const iterator = pubSub.subscribeTopic(topic, id);
  const messages: TopicMap[K][] = [];
  // for-await calls next() at once, which registers the engine subscription synchronously.
  const loop = (async () => {
    for await (const m of iterator) {
      messages.push(m);
      onMessage?.(m);
    }
  })();
  return {
    messages,
    stop: async () => {
      await iterator.return?.();
      await loop;
    },
  };
}
