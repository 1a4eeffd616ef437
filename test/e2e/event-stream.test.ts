import type { Client } from "graphql-ws";
import Redis from "ioredis";
import { channelName } from "../../src/events/pubsub";
import {
  AcceptBookingDocument,
  BookingEventStreamDocument,
  BookingEventsDocument,
  CancelBookingDocument,
  RejectBookingDocument,
  type BookingEventStreamSubscription,
} from "../generated/graphql";
import { REDIS_URL, createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { addSlots, bookSlot, createProvider, registerUser, type TestUser } from "../support/factories";
import { errorCode, execute, executeOk, subscribe, wsClient, type LiveSubscription } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import { settle, sleep } from "../support/wait";

type Edge = BookingEventStreamSubscription["bookingEventStream"];
type Change = [eventType: string, bookingId: string];

/** A provider with `slots` free slots, its owner and one customer, made through `url`. */
async function setUp(url: string, slots: number) {
  const owner = await registerUser(url, "PROVIDER");
  const customer = await registerUser(url, "CUSTOMER");
  const provider = await createProvider(url, owner, { requiresConfirmation: true });
  const free = await addSlots(url, owner, provider.id, { count: slots });
  return { owner, customer, providerId: provider.id, free };
}

/**
 * Makes `count` changes through `url`, alternating a new booking and a decision on it
 * (accept, reject or cancel), and returns them in the order they committed.
 */
async function makeChanges(url: string, who: { owner: TestUser; customer: TestUser }, slotIds: string[], count: number): Promise<Change[]> {
  const changes: Change[] = [];
  for (let i = 0; changes.length < count; i++) {
    const booking = await bookSlot(url, who.customer, slotIds.shift()!);
    changes.push(["BOOKING_CREATED", booking.id]);
    if (changes.length === count) break;
    if (i % 3 === 0) {
      await executeOk(url, AcceptBookingDocument, { id: booking.id }, who.owner.token);
      changes.push(["BOOKING_CONFIRMED", booking.id]);
    } else if (i % 3 === 1) {
      await executeOk(url, RejectBookingDocument, { id: booking.id, reason: "full" }, who.owner.token);
      changes.push(["BOOKING_REJECTED", booking.id]);
    } else {
      await executeOk(url, CancelBookingDocument, { id: booking.id }, who.customer.token);
      changes.push(["BOOKING_CANCELLED", booking.id]);
    }
  }
  return changes;
}

/**
 * Waits until the provider's log lists `count` events: on a PostgreSQL server shared with other
 * work, a transaction that began earlier elsewhere holds new events back for a moment.
 */
async function untilListed(url: string, owner: TestUser, providerId: string, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await executeOk(url, BookingEventsDocument, { providerId, first: 100 }, owner.token)).bookingEvents.edges.length < count) {
    if (Date.now() > deadline) throw new Error(`the log did not list ${count} events within 30 s`);
    await sleep(50);
  }
}

const changesOf = (edges: Edge[]): Change[] => edges.map((e) => [e.node.eventType, e.node.booking.id]);

function edgesOf(sub: LiveSubscription<BookingEventStreamSubscription>): Edge[] {
  return sub.results.map((r) => {
    if (r.errors?.length || !r.data) throw new Error(`stream error: ${JSON.stringify(r.errors)}`);
    return r.data.bookingEventStream;
  });
}

describe("bookingEvents and bookingEventStream on one instance", () => {
  let server: TestServer;
  const clients: Client[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server?.close();
  });
  const client = (token: string) => {
    const c = wsClient(server.wsUrl, token);
    clients.push(c);
    return c;
  };

  test("pages over HTTP in commit order and refuses bad arguments with BAD_USER_INPUT", async () => {
    const who = await setUp(server.url, 4);
    const changes = await makeChanges(server.url, who, who.free.map((s) => s.id), 5);
    await untilListed(server.url, who.owner, who.providerId, changes.length);
    const first = await executeOk(server.url, BookingEventsDocument, { providerId: who.providerId, first: 3 }, who.owner.token);
    expect(first.bookingEvents.pageInfo.hasNextPage).toBe(true);
    const rest = await executeOk(server.url, BookingEventsDocument, { providerId: who.providerId, after: first.bookingEvents.pageInfo.endCursor }, who.owner.token);
    expect(rest.bookingEvents.pageInfo.hasNextPage).toBe(false);
    expect([...first.bookingEvents.edges, ...rest.bookingEvents.edges].map((e) => [e.node.eventType, e.node.booking.id])).toEqual(changes);

    const stranger = await registerUser(server.url, "CUSTOMER");
    const bookingId = changes[0]![1];
    expect(errorCode(await execute(server.url, BookingEventsDocument, { bookingId }, stranger.token))).toBe("NOT_FOUND");
    expect(errorCode(await execute(server.url, BookingEventsDocument, { providerId: who.providerId }, who.customer.token))).toBe("FORBIDDEN");
    expect(errorCode(await execute(server.url, BookingEventsDocument, { bookingId }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await execute(server.url, BookingEventsDocument, {}, who.owner.token))).toBe("BAD_USER_INPUT");
    expect(errorCode(await execute(server.url, BookingEventsDocument, { bookingId, providerId: who.providerId }, who.owner.token))).toBe("BAD_USER_INPUT");
    expect(errorCode(await execute(server.url, BookingEventsDocument, { bookingId, after: "Zm9yZ2Vk" }, who.owner.token))).toBe("BAD_USER_INPUT");

    const refused = subscribe(client(who.owner.token), BookingEventStreamDocument, { bookingId, after: "Zm9yZ2Vk" });
    await refused.waitFor(1);
    expect(refused.results[0]!.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  test("a client that disconnects resumes with its last cursor: exactly the changes it missed, in commit order, then live ones", async () => {
    const who = await setUp(server.url, 16);
    const slotIds = who.free.map((s) => s.id);
    const before = await makeChanges(server.url, who, slotIds, 3);
    const first = subscribe(client(who.customer.token), BookingEventStreamDocument, { bookingId: before[0]![1] });
    const stream = subscribe(client(who.owner.token), BookingEventStreamDocument, { providerId: who.providerId });
    await stream.waitFor(3, 15_000);
    const live = await makeChanges(server.url, who, slotIds, 2);
    await stream.waitFor(5, 15_000);
    expect(changesOf(edgesOf(stream))).toEqual([...before, ...live]);
    expect(changesOf(edgesOf(await first.waitFor(2, 15_000).then(() => first)))).toEqual(before.slice(0, 2));
    const last = edgesOf(stream).at(-1)!.cursor;
    stream.stop();

    const missed = await makeChanges(server.url, who, slotIds, 6);
    const resumed = subscribe(client(who.owner.token), BookingEventStreamDocument, { providerId: who.providerId, after: last });
    await resumed.waitFor(6, 15_000);
    const after = await makeChanges(server.url, who, slotIds, 2);
    await resumed.waitFor(8, 15_000);
    await settle(300);
    expect(changesOf(edgesOf(resumed))).toEqual([...missed, ...after]);
    resumed.stop();
    first.stop();
  });
});

// Two instances on one PostgreSQL and one Redis: the changes are made through B, the client
// follows A, so only the shared log and Redis can bring them. Always needs both real services.
describe("bookingEventStream across two instances and a disconnect", () => {
  let available = false;
  let database: TestDatabase | undefined;
  let a: TestServer | undefined;
  let b: TestServer | undefined;
  const clients: Client[] = [];
  beforeAll(async () => {
    available = (await requireService("postgres")) && (await requireService("redis"));
    if (!available) return;
    database = await createPostgresDatabase();
    a = await startTestServer({ databaseUrl: database.url, redisUrl: REDIS_URL });
    b = await startTestServer({ databaseUrl: database.url, redisUrl: REDIS_URL });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  test("20 changes made through B while the client is away arrive at A after it reconnects, exactly once and in commit order, then live ones", async () => {
    if (!available) return;
    const who = await setUp(b!.url, 30);
    const slotIds = who.free.map((s) => s.id);
    const connect = () => {
      const c = wsClient(a!.wsUrl, who.owner.token);
      clients.push(c);
      return c;
    };

    const firstClient = connect();
    const stream = subscribe(firstClient, BookingEventStreamDocument, { providerId: who.providerId });
    await settle();
    // Live across instances: made on B, woken on A through Redis, read from the shared log.
    const early = await makeChanges(b!.url, who, slotIds, 2);
    await stream.waitFor(2, 15_000);
    expect(changesOf(edgesOf(stream))).toEqual(early);
    const lastCursor = edgesOf(stream).at(-1)!.cursor;
    await firstClient.dispose();

    const missed = await makeChanges(b!.url, who, slotIds, 20);
    expect(missed).toHaveLength(20);

    const resumed = subscribe(connect(), BookingEventStreamDocument, { providerId: who.providerId, after: lastCursor });
    await resumed.waitFor(20, 15_000);
    expect(changesOf(edgesOf(resumed))).toEqual(missed);

    const later = await makeChanges(b!.url, who, slotIds, 3);
    await resumed.waitFor(23, 15_000);
    await settle(300);
    expect(changesOf(edgesOf(resumed))).toEqual([...missed, ...later]);
    const ids = edgesOf(resumed).map((e) => e.node.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    // Every cursor resumes right after its own event.
    const page = await executeOk(a!.url, BookingEventsDocument, { providerId: who.providerId, after: edgesOf(resumed)[19]!.cursor }, who.owner.token);
    expect(page.bookingEvents.edges.map((e) => [e.node.eventType, e.node.booking.id])).toEqual(later);

    // A stopped stream lets go of its Redis subscription (the disconnected one already has).
    resumed.stop();
    const redis = new Redis(REDIS_URL, { lazyConnect: true, disableClientInfo: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const channel = channelName("PROVIDER_BOOKING_EVENTS", who.providerId);
      const deadline = Date.now() + 10_000;
      let subscribers = -1;
      while (subscribers !== 0 && Date.now() < deadline) {
        subscribers = Number(((await redis.pubsub("NUMSUB", channel)) as [string, number | string])[1]);
        if (subscribers !== 0) await settle(50);
      }
      expect(subscribers).toBe(0);
    } finally {
      await redis.quit();
    }
  }, 120_000);
});
