import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { openDatabase, type Database } from "../../src/db/client";
import { followEventLog, readEventLog, type EventLogEdge } from "../../src/events/event-log";
import type { BookingEventEnvelope } from "../../src/events/envelope";
import { createInMemoryPubSub } from "../../src/events/pubsub";
import { createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { sleep } from "../support/wait";

// Outbox ids are taken at insert, not at commit. PGlite runs one statement at a time and cannot
// hold two transactions open, so these cases always run on real PostgreSQL.
let available = false;
let database: TestDatabase | undefined;
let app: Database | undefined;
let raw: postgres.Sql | undefined;

beforeAll(async () => {
  available = await requireService("postgres");
  if (!available) return;
  database = await createPostgresDatabase();
  app = await openDatabase({ databaseUrl: database.url, pgliteDir: "memory://", poolMax: 4 });
  await app.migrate();
  raw = postgres(database.url, { max: 12, onnotice: () => undefined });
});

afterAll(async () => {
  await raw?.end({ timeout: 5 });
  await app?.close();
  await database?.drop();
});

const test_ = (name: string, fn: () => Promise<void>, timeoutMs?: number) =>
  test(
    name,
    async () => {
      if (!available) return;
      await fn();
    },
    timeoutMs,
  );

type Conn = postgres.ReservedSql;

/** Inserts one outbox row for `bookingId` of `providerId` on `conn`; returns its id and xact_id. */
async function insertEvent(conn: Conn | postgres.Sql, providerId: string, bookingId = randomUUID()): Promise<{ id: number; xactId: bigint; eventId: string }> {
  const eventId = randomUUID();
  const at = new Date().toISOString();
  const payload = {
    eventId,
    eventType: "BOOKING_CREATED",
    version: 1,
    timestamp: at,
    bookingId,
    providerId,
    slotId: randomUUID(),
    userId: randomUUID(),
    slotStart: at,
    slotEnd: at,
    status: "PENDING",
    previousStatus: null,
    actorId: "system",
    reason: null,
  };
  const [row] = await conn<{ id: string; xact_id: string }[]>`
    insert into outbox (event_id, event_type, booking_id, payload)
    values (${eventId}, 'BOOKING_CREATED', ${bookingId}, ${conn.json(payload)})
    returning id, xact_id::text`;
  return { id: Number(row!.id), xactId: BigInt(row!.xact_id), eventId };
}

async function ownXactId(conn: Conn): Promise<bigint> {
  const [row] = await conn<{ x: string }[]>`select pg_current_xact_id()::text as x`;
  return BigInt(row!.x);
}

const ids = (edges: EventLogEdge[]) => edges.map((e) => e.position.id);
const read = (scope: { providerId: string } | { bookingId: string }, after?: EventLogEdge) => readEventLog(app!.db, scope, after?.position, 100);

/** Two open transactions, A and B, on their own connections. */
async function twoTransactions(): Promise<{ a: Conn; b: Conn; release(): void }> {
  const a = await raw!.reserve();
  const b = await raw!.reserve();
  await a`begin`;
  await b`begin`;
  return {
    a,
    b,
    release: () => {
      a.release();
      b.release();
    },
  };
}

/** Reads until `check` holds: other databases' transactions on this shared server may hold the horizon back for a moment. */
async function readUntil(scope: { providerId: string } | { bookingId: string }, check: (edges: EventLogEdge[]) => boolean, after?: EventLogEdge): Promise<EventLogEdge[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const edges = await read(scope, after);
    if (check(edges) || Date.now() > deadline) return edges;
    await sleep(20);
  }
}

test_("A takes id 41 and holds, B takes 42 and commits: a reader never hands out 42 with a cursor past 41; after A commits both are read, none skipped", async () => {
  const providerId = randomUUID();
  await raw!`select setval('outbox_id_seq', 40)`;
  const { a, b, release } = await twoTransactions();
  try {
    const fromA = await insertEvent(a, providerId);
    const fromB = await insertEvent(b, providerId);
    expect([fromA.id, fromB.id]).toEqual([41, 42]);
    expect(fromA.xactId < fromB.xactId).toBe(true);
    await b`commit`;

    // B's row is committed and visible, but A (an older transaction) is still running.
    const whileAHolds = await read({ providerId });
    expect(ids(whileAHolds)).toEqual([]);

    await a`commit`;
    const both = await readUntil({ providerId }, (e) => e.length === 2);
    expect(ids(both)).toEqual([41, 42]);
    expect(ids(await read({ providerId }, both[0]))).toEqual([42]);
    expect(ids(await read({ providerId }, both[1]))).toEqual([]);
  } finally {
    release();
  }
});

test_("B got its transaction id before A, A takes 41 and holds, B takes 42 and commits: 42 is read first, and 41 still comes after its cursor", async () => {
  const providerId = randomUUID();
  await raw!`select setval('outbox_id_seq', 140)`;
  const { a, b, release } = await twoTransactions();
  try {
    const bXact = await ownXactId(b);
    const fromA = await insertEvent(a, providerId);
    const fromB = await insertEvent(b, providerId);
    expect([fromA.id, fromB.id]).toEqual([141, 142]);
    expect(fromB.xactId).toBe(bXact);
    expect(bXact < fromA.xactId).toBe(true);
    await b`commit`;

    const whileAHolds = await readUntil({ providerId }, (e) => e.length > 0);
    expect(ids(whileAHolds)).toEqual([142]);
    const cursor = whileAHolds[0]!;

    await a`commit`;
    const rest = await readUntil({ providerId }, (e) => e.length > 0, cursor);
    expect(ids(rest)).toEqual([141]);
    expect(ids(await read({ providerId }))).toEqual([142, 141]);
    expect(ids(await read({ providerId }, rest[0]))).toEqual([]);
  } finally {
    release();
  }
});

test_("one booking's events keep commit order even when the later transaction got the older transaction id", async () => {
  const providerId = randomUUID();
  const bookingId = randomUUID();
  const { a: later, b: earlier, release } = await twoTransactions();
  try {
    const laterOwn = await ownXactId(later);
    const first = await insertEvent(earlier, providerId, bookingId);
    await earlier`commit`;
    const second = await insertEvent(later, providerId, bookingId);
    await later`commit`;
    expect(laterOwn < first.xactId).toBe(true);
    // Raised to the booking's previous event's by the trigger: ties are broken by id.
    expect(second.xactId).toBe(first.xactId);
    const edges = await readUntil({ bookingId }, (e) => e.length === 2);
    expect(edges.map((e) => e.message.event.eventId)).toEqual([first.eventId, second.eventId]);
  } finally {
    release();
  }
});

test_("an INSERT cannot set xact_id below its own transaction's id", async () => {
  const conn = await raw!.reserve();
  try {
    await conn`begin`;
    const own = await ownXactId(conn);
    const [row] = await conn<{ x: string }[]>`
      insert into outbox (event_id, event_type, booking_id, payload, xact_id)
      values (${randomUUID()}, 'BOOKING_CREATED', ${randomUUID()}, ${conn.json({ providerId: randomUUID() })}, '1'::xid8)
      returning xact_id::text as x`;
    expect(BigInt(row!.x)).toBe(own);
  } finally {
    await conn`rollback`;
    conn.release();
  }
});

test_(
  "a follower reading while many transactions commit out of id order receives every committed event exactly once",
  async () => {
    const providerId = randomUUID();
    const follower = followEventLog(app!.db, undefined, { providerId }, undefined, { batchSize: 7, idlePollMs: 5 });
    const received: EventLogEdge[] = [];
    const following = (async () => {
      for await (const edge of follower) received.push(edge);
    })();
    const committed: string[] = [];
    const writer = async (w: number) => {
      for (let t = 0; t < 25; t++) {
        const conn = await raw!.reserve();
        try {
          await conn`begin`;
          const events = [];
          for (let e = 0; e < 1 + ((w + t) % 2); e++) {
            events.push(await insertEvent(conn, providerId));
            await conn`select pg_sleep(${Math.random() * 0.01})`;
          }
          if ((w * 25 + t) % 7 === 3) await conn`rollback`;
          else {
            await conn`commit`;
            committed.push(...events.map((e) => e.eventId));
          }
        } finally {
          conn.release();
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, w) => writer(w)));
    const deadline = Date.now() + 30_000;
    while (received.length < committed.length && Date.now() < deadline) await sleep(20);
    await follower.return?.();
    await following;

    const got = received.map((e) => e.message.event.eventId);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort()).toEqual([...committed].sort());
    // And in the same order a fresh reader of the whole log gives.
    const all: EventLogEdge[] = [];
    for (let page = await read({ providerId }); page.length > 0; page = await read({ providerId }, page.at(-1))) all.push(...page);
    expect(all.map((e) => e.message.event.eventId)).toEqual(got);
  },
  120_000,
);

test_("live phase: a wake-up for B's event while older A still runs delivers nothing; once A commits (without a wake-up of its own), A then B", async () => {
  const providerId = randomUUID();
  const pubSub = createInMemoryPubSub();
  // No idle polling within the test's time: only wake-ups and their retries drive the stream.
  const stream = followEventLog(app!.db, pubSub, { providerId }, undefined, { idlePollMs: 120_000, retryBaseMs: 10, retryMaxMs: 50 });
  const received: EventLogEdge[] = [];
  const following = (async () => {
    for await (const edge of stream) received.push(edge);
  })();
  const { a, b, release } = await twoTransactions();
  try {
    await sleep(100); // the stream has subscribed and found nothing
    const fromA = await insertEvent(a, providerId);
    const fromB = await insertEvent(b, providerId);
    await b`commit`;
    const wake = (eventId: string) =>
      pubSub.publishTopic("PROVIDER_BOOKING_EVENTS", providerId, { event: { eventId, providerId } as BookingEventEnvelope, booking: {} as never });
    await wake(fromB.eventId);
    await sleep(400);
    expect(received).toEqual([]);

    await a`commit`;
    const deadline = Date.now() + 30_000;
    while (received.length < 2 && Date.now() < deadline) await sleep(20);
    expect(received.map((e) => e.message.event.eventId)).toEqual([fromA.eventId, fromB.eventId]);
  } finally {
    release();
    await stream.return?.();
    await following;
  }
});
