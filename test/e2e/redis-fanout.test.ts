import { eq } from "drizzle-orm";
import type { Client } from "graphql-ws";
import Redis from "ioredis";
import type WebSocket from "ws";
import { outbox } from "../../src/db/schema";
import { channelName } from "../../src/events/pubsub";
import {
  AcceptBookingDocument,
  BookingStatusChangedDocument,
  ProviderBookingEventsDocument,
  SlotAvailabilityChangedDocument,
} from "../generated/graphql";
import { REDIS_URL, createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { addSlots, bookSlot, createProvider, futureHour, registerUser } from "../support/factories";
import { executeOk, subscribe, wsClient, type LiveSubscription } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import { waitFor } from "../support/wait";

// Two instances on one database and one Redis: whatever is published on B can only
// reach A's subscribers through Redis, so these tests always need both real services.
let available = false;
let database: TestDatabase | undefined;
let a: TestServer | undefined;
let b: TestServer | undefined;
let redis: Redis | undefined;
const clients: Client[] = [];

beforeAll(async () => {
  available = (await requireService("postgres")) && (await requireService("redis"));
  if (!available) return;
  database = await createPostgresDatabase();
  a = await startTestServer({ databaseUrl: database.url, redisUrl: REDIS_URL });
  b = await startTestServer({ databaseUrl: database.url, redisUrl: REDIS_URL });
  redis = new Redis(REDIS_URL, { lazyConnect: true, disableClientInfo: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await a?.close();
  await b?.close();
  await redis?.quit();
  await database?.drop();
});

/** How many Redis connections are subscribed to `channel` (PUBSUB NUMSUB). */
async function numsub(channel: string): Promise<number> {
  const reply = (await redis!.pubsub("NUMSUB", channel)) as [string, number | string];
  return Number(reply[1]);
}

async function untilNumsub(channel: string, expected: number): Promise<void> {
  await waitFor(`NUMSUB ${channel} to be ${expected}`, async () => (await numsub(channel)) === expected, {
    timeoutMs: 10_000,
    describe: async () => `NUMSUB ${channel} is ${await numsub(channel)}, expected ${expected}`,
  });
}

/** Live Slotwise channels naming any of `ids` (PUBSUB CHANNELS slotwise:*). */
async function channelsOf(ids: string[]): Promise<string[]> {
  const channels = (await redis!.pubsub("CHANNELS", "slotwise:*")) as string[];
  return channels.filter((c) => ids.some((id) => c.includes(id)));
}

async function untilNoChannelsOf(ids: string[]): Promise<void> {
  await waitFor("no channel of these ids", async () => (await channelsOf(ids)).length === 0, {
    timeoutMs: 10_000,
    describe: async () => `still subscribed: ${JSON.stringify(await channelsOf(ids))}`,
  });
}

/** A graphql-ws client of instance A; its raw socket is kept so a test can drop it. */
function clientOnA(token?: string): { client: Client; socket: () => WebSocket } {
  const client = wsClient(a!.wsUrl, token);
  let socket: WebSocket | undefined;
  client.on("opened", (s) => (socket = s as WebSocket));
  clients.push(client);
  return {
    client,
    socket: () => {
      if (!socket) throw new Error("socket not open yet");
      return socket;
    },
  };
}

async function bookedSetup() {
  const owner = await registerUser(b!.url, "PROVIDER");
  const customer = await registerUser(b!.url, "CUSTOMER");
  const provider = await createProvider(b!.url, owner, { requiresConfirmation: true });
  const [slot] = await addSlots(b!.url, owner, provider.id, { count: 1 });
  return { owner, customer, provider, slot: slot! };
}

test("subscribers on instance A see createBooking and acceptBooking made through instance B", async () => {
  if (!available) return;
  const owner = await registerUser(b!.url, "PROVIDER");
  const customer = await registerUser(b!.url, "CUSTOMER");
  const provider = await createProvider(b!.url, owner, { requiresConfirmation: true });
  const [slot] = await addSlots(b!.url, owner, provider.id, { count: 1 });

  const providerSub = subscribe(clientOnA(owner.token).client, ProviderBookingEventsDocument, { providerId: provider.id });
  const slotSub = subscribe(clientOnA().client, SlotAvailabilityChangedDocument, { providerId: provider.id });
  await untilNumsub(channelName("PROVIDER_BOOKING_EVENTS", provider.id), 1);
  await untilNumsub(channelName("SLOT_EVENTS", provider.id), 1);

  const booking = await bookSlot(b!.url, customer, slot!.id);
  const [created] = await providerSub.waitFor(1, 10_000);
  expect(created!.errors).toBeUndefined();
  expect(created!.data!.providerBookingEvents).toMatchObject({
    eventType: "BOOKING_CREATED",
    previousStatus: null,
    booking: { id: booking.id, status: "PENDING", reason: null, slot: { id: slot!.id, status: "HELD" } },
  });
  const [held] = await slotSub.waitFor(1, 10_000);
  expect(held!.data!.slotAvailabilityChanged.slot).toEqual({ id: slot!.id, status: "HELD", startsAt: slot!.startsAt, endsAt: slot!.endsAt });

  const bookingSub = subscribe(clientOnA(customer.token).client, BookingStatusChangedDocument, { bookingId: booking.id });
  await untilNumsub(channelName("BOOKING_EVENTS", booking.id), 1);
  await executeOk(b!.url, AcceptBookingDocument, { id: booking.id }, owner.token);

  const confirmed = {
    eventType: "BOOKING_CONFIRMED",
    previousStatus: "PENDING",
    booking: { id: booking.id, status: "CONFIRMED", slot: { id: slot!.id, status: "BOOKED" } },
  };
  const [viaBooking] = await bookingSub.waitFor(1, 10_000);
  expect(viaBooking!.data!.bookingStatusChanged).toMatchObject(confirmed);
  const [, viaProvider] = await providerSub.waitFor(2, 10_000);
  expect(viaProvider!.data!.providerBookingEvents).toMatchObject(confirmed);
  const [, booked] = await slotSub.waitFor(2, 10_000);
  expect(booked!.data!.slotAvailabilityChanged.slot).toMatchObject({ id: slot!.id, status: "BOOKED" });

  // The live events are the committed outbox events, not look-alikes.
  const rows = await a!.database.db.select().from(outbox).where(eq(outbox.bookingId, booking.id));
  const eventIdOf = (type: string) => rows.find((r) => r.eventType === type)?.eventId;
  expect(rows).toHaveLength(2);
  expect(created!.data!.providerBookingEvents.eventId).toBe(eventIdOf("BOOKING_CREATED"));
  expect(viaProvider!.data!.providerBookingEvents.eventId).toBe(eventIdOf("BOOKING_CONFIRMED"));
  expect(viaBooking!.data!.bookingStatusChanged.eventId).toBe(eventIdOf("BOOKING_CONFIRMED"));
  expect([providerSub.results.length, slotSub.results.length, bookingSub.results.length]).toEqual([2, 2, 1]);

  [providerSub, slotSub, bookingSub].forEach((s) => s.stop());
  await untilNoChannelsOf([provider.id, booking.id]);
});

// Every way a graphql-ws subscriber can go away must release the Redis subscription.
const waysToLeave: [string, (sub: LiveSubscription<unknown>, c: ReturnType<typeof clientOnA>) => unknown][] = [
  ["unsubscribes (complete message)", (sub) => sub.stop()],
  ["disposes its client (clean close)", (_sub, c) => c.client.dispose()],
  ["terminates its client (graphql-ws terminate)", (_sub, c) => c.client.terminate()],
  ["drops its socket abruptly (no close frame)", (_sub, c) => c.socket().terminate()],
];

test.each(waysToLeave)("a subscriber that %s leaves no Redis subscription behind", async (_how, leave) => {
  if (!available) return;
  const { owner, customer, provider, slot } = await bookedSetup();
  const booking = await bookSlot(b!.url, customer, slot.id);
  const channel = channelName("BOOKING_EVENTS", booking.id);
  expect(await numsub(channel)).toBe(0);

  const connection = clientOnA(customer.token);
  const sub = subscribe(connection.client, BookingStatusChangedDocument, { bookingId: booking.id });
  await untilNumsub(channel, 1);
  // The subscription is real, not just a Redis channel: it carries an event from B.
  await executeOk(b!.url, AcceptBookingDocument, { id: booking.id }, owner.token);
  await sub.waitFor(1, 10_000);

  await leave(sub as LiveSubscription<unknown>, connection);
  await untilNumsub(channel, 0);
  await untilNoChannelsOf([booking.id, provider.id]);
});

test("subscribers of one channel on one instance share a Redis subscription until the last one leaves", async () => {
  if (!available) return;
  const owner = await registerUser(b!.url, "PROVIDER");
  const provider = await createProvider(b!.url, owner);
  const probes = await Promise.all([0, 1, 2].map(() => createProvider(b!.url, owner)));
  const channel = channelName("SLOT_EVENTS", provider.id);
  let hour = 24;
  const addOneSlot = async () => (await addSlots(b!.url, owner, provider.id, { count: 1, start: futureHour(hour++) }))[0]!;

  const connections = [0, 1, 2].map(() => clientOnA());
  const subs = connections.map((c) => Array.from({ length: 4 }, () => subscribe(c.client, SlotAvailabilityChangedDocument, { providerId: provider.id })));
  const all = subs.flat();
  await untilNumsub(channel, 1);
  // The first subscriber makes the channel appear; the others are live once each has
  // received an event from B. Keep adding slots until that is true (bounded).
  await waitFor(
    "every subscriber to receive an event",
    async () => {
      await addOneSlot();
      await waitFor("an event for each subscriber", () => all.every((s) => s.results.length > 0), { timeoutMs: 1_000 }).catch(() => undefined);
      return all.every((s) => s.results.length > 0);
    },
    { timeoutMs: 30_000, describe: async () => `subscribers without events: ${all.filter((s) => s.results.length === 0).length}` },
  );
  expect(all.every((s) => s.results.every((r) => !r.errors))).toBe(true);
  // NUMSUB counts Redis connections: one per instance that listens, never one per subscriber.
  expect(await numsub(channel)).toBe(1);

  // Eleven leave; one (the last of the first connection) stays.
  const last = subs[0]![3]!;
  all.filter((s) => s !== last).forEach((s) => s.stop());
  // graphql-ws reads one socket's messages in order, so once a later subscription on the
  // same socket is live, the server has handled every earlier `complete` on it.
  const barriers = connections.map((c, i) => subscribe(c.client, SlotAvailabilityChangedDocument, { providerId: probes[i]!.id }));
  for (const probe of probes) await untilNumsub(channelName("SLOT_EVENTS", probe.id), 1);
  expect(await numsub(channel)).toBe(1);

  // Still subscribed in Redis, not just counted: a change made on B reaches the last one.
  const slot = await addOneSlot();
  await waitFor("the last subscriber to receive the new slot", async () => last.results.some((r) => r.data?.slotAvailabilityChanged.slot.id === slot.id), {
    timeoutMs: 10_000,
    describe: async () => `last subscriber did not receive slot ${slot.id}`,
  });
  expect(await numsub(channel)).toBe(1);

  last.stop();
  await untilNumsub(channel, 0);
  barriers.forEach((s) => s.stop());
  await untilNoChannelsOf([provider.id, ...probes.map((p) => p.id)]);
});
