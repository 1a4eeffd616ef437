import { performance } from "node:perf_hooks";
import type { Client } from "graphql-ws";
import { openWsClient } from "../demo/graphql";
import { GraphQLHttp } from "./graphql-http";
import type { FanoutResult } from "./result";
import type { ServerHandle } from "./server-handle";
import { CONNECT_CONCURRENCY, DeliveryClock, until } from "./fanout-common";
import { measureRawBroadcast } from "./scenario-fanout-raw";
import { distribution, runLimited } from "./stats";
import { hourFromNow, seedProvider, seedUsers, type BenchWorld } from "./world";

export interface FanoutOptions {
  /** Sequential acceptBooking round trips measured against their event. */
  latencySamples: number;
  /** graphql-ws connections, each with one subscription to the same provider. */
  subscribers: number;
  /** Timed events broadcast to all of them. */
  broadcastEvents: number;
  /** Bound for every wait (ms). */
  deadlineMs: number;
}

const ACCEPT = "mutation Accept($id: ID!) { acceptBooking(id: $id) { id status } }";
const BOOK = "mutation Book($input: CreateBookingInput!) { createBooking(input: $input) { id } }";
const PROVIDER_EVENTS = "subscription P($p: ID!) { providerBookingEvents(providerId: $p) { eventType booking { id status } } }";
const SLOT_EVENTS = "subscription S($p: ID!) { slotAvailabilityChanged(providerId: $p) { slot { id status } } }";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A graphql-ws client whose connection the server acknowledged (the demo's client). */
async function connect(wsUrl: string, token?: string): Promise<Client> {
  const { client, connected } = openWsClient(wsUrl, token);
  await connected;
  return client;
}

/**
 * Scenario 3, over Redis (the server runs with REDIS_URL):
 *  - latency: acceptBooking over HTTP, timed to its answer and to a provider subscriber's event;
 *  - capacity: `subscribers` graphql-ws connections, each subscribed to slotAvailabilityChanged of one
 *    provider (the public booking-page feed, so anonymous), with the server's heap and RSS measured after
 *    a forced GC before and after;
 *  - broadcast: createBooking on that provider, timed from sending it to the first, median and last
 *    subscriber receiving the slot's event;
 *  - baseline: the same number of plain WebSocket connections to a bare `ws` server process, and the
 *    same broadcast without GraphQL or Redis (scenario-fanout-raw).
 */
export async function runFanout(world: BenchWorld, server: ServerHandle, opts: FanoutOptions): Promise<FanoutResult> {
  const http = new GraphQLHttp(server.url, 4);
  const details: string[] = [];
  try {
    const latency = await measureLatency(world, server, http, opts);
    const { capacity, broadcast } = await measureBroadcast(world, server, http, opts);
    // After Slotwise's subscribers are gone, so the load generator holds one set of sockets at a time.
    const raw = await measureRawBroadcast({ connections: opts.subscribers, events: opts.broadcastEvents, deadlineMs: opts.deadlineMs });
    details.push(`${latency.missing} latency events missing, ${capacity.failed} connections failed, ${broadcast.missing} broadcast deliveries missing`);
    details.push(`bare ws baseline: ${raw.failed} connections failed, ${raw.missing} deliveries missing`);
    if (opts.subscribers < 10_000) details.push(`${opts.subscribers} subscribers (quick run; the full run holds 10,000)`);
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    return {
      latency: { ...latency, ratioP50: ratio(latency.mutationToEvent.p50Ms, latency.mutationRoundTrip.p50Ms), ratioP99: ratio(latency.mutationToEvent.p99Ms, latency.mutationRoundTrip.p99Ms) },
      capacity,
      broadcast,
      raw,
      ratios: {
        broadcastLastP50: ratio(broadcast.toLast.p50Ms, raw.toLast.p50Ms),
        heapPerSubscriber: ratio(capacity.heapPerSubscriber, raw.heapPerConnection),
        connectSeconds: ratio(capacity.connectSeconds, raw.connectSeconds),
      },
      verified: latency.missing === 0 && capacity.failed === 0 && broadcast.missing === 0 && raw.failed === 0 && raw.missing === 0,
      detail: details.join("; "),
    };
  } finally {
    http.close();
  }
}

async function measureLatency(world: BenchWorld, server: ServerHandle, http: GraphQLHttp, opts: FanoutOptions) {
  const [owner] = await seedUsers(world, "PROVIDER", 1);
  const [customer] = await seedUsers(world, "CUSTOMER", 1);
  const provider = await seedProvider(world, owner!, { slotCount: opts.latencySamples, slotMinutes: 30, startsAt: hourFromNow(24), name: "Fan-out latency" });
  const client = await connect(server.wsUrl, owner!.token);
  const confirmedAt = new Map<string, number>();
  const stop = client.subscribe<{ providerBookingEvents: { eventType: string; booking: { id: string } } }>(
    { query: PROVIDER_EVENTS, variables: { p: provider.id } },
    {
      next: (r) => {
        const e = r.data?.providerBookingEvents;
        if (e?.eventType === "BOOKING_CONFIRMED") confirmedAt.set(e.booking.id, performance.now());
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  const rtt: number[] = [];
  const toEvent: number[] = [];
  let missing = 0;
  try {
    await sleep(200); // the subscribe message reaches the server
    for (const slot of provider.slots) {
      const { booking } = await world.services.bookingCreate.createBooking(customer!, { slotId: slot.id });
      const sent = performance.now();
      const reply = await http.post<{ acceptBooking: { status: string } }>(ACCEPT, { id: booking.id }, owner!.token);
      if (reply.errors || reply.data?.acceptBooking.status !== "CONFIRMED") throw new Error(`acceptBooking failed: ${JSON.stringify(reply.errors)}`);
      rtt.push(reply.roundTripMs);
      if (await until(() => confirmedAt.has(booking.id), 5_000)) toEvent.push(confirmedAt.get(booking.id)! - sent);
      else missing++;
    }
  } finally {
    stop();
    await client.dispose();
  }
  return { samples: rtt.length, mutationRoundTrip: distribution(rtt), mutationToEvent: distribution(toEvent), missing };
}

async function measureBroadcast(world: BenchWorld, server: ServerHandle, http: GraphQLHttp, opts: FanoutOptions) {
  const [owner] = await seedUsers(world, "PROVIDER", 1);
  const [customer] = await seedUsers(world, "CUSTOMER", 1);
  // Probe events (until every subscriber has one) plus the timed ones.
  const provider = await seedProvider(world, owner!, { slotCount: opts.broadcastEvents + 20, slotMinutes: 30, startsAt: hourFromNow(24), name: "Fan-out broadcast" });
  const slotIds = provider.slots.map((s) => s.id);
  let nextSlot = 0;

  const before = await server.memory();
  const clients: Client[] = [];
  const stops: (() => void)[] = [];
  let failed = 0;
  const clock = new DeliveryClock(opts.subscribers);
  const connectStarted = performance.now();
  await runLimited(
    Array.from({ length: opts.subscribers }, (_, i) => i),
    CONNECT_CONCURRENCY,
    async (i) => {
      try {
        const client = await connect(server.wsUrl);
        clients.push(client);
        stops.push(
          client.subscribe<{ slotAvailabilityChanged: { slot: { id: string } } }>(
            { query: SLOT_EVENTS, variables: { p: provider.id } },
            { next: (r) => clock.heard(i, r.data?.slotAvailabilityChanged.slot.id ?? ""), error: () => undefined, complete: () => undefined },
          ),
        );
      } catch {
        failed++;
      }
    },
  );
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  const live = opts.subscribers - failed;

  /** Books the next slot over HTTP; resolves once every live subscriber heard of it, or after `waitMs`. */
  const broadcast = async (waitMs: number): Promise<{ sent: number; complete: boolean }> => {
    const slotId = slotIds[nextSlot++]!;
    clock.watch(slotId);
    const sent = performance.now();
    const reply = await http.post<{ createBooking: { id: string } }>(BOOK, { input: { slotId } }, customer!.token);
    if (reply.errors) throw new Error(`createBooking failed: ${JSON.stringify(reply.errors)}`);
    return { sent, complete: await until(() => clock.heardCount >= live, waitMs) };
  };

  try {
    // Probes: a subscription is live on the server only once an event reaches it.
    let probes = 0;
    while (probes < 20 && !(await broadcast(3_000)).complete) probes++;
    const after = await server.memory();
    for (let e = 0; e < opts.broadcastEvents; e++) clock.record((await broadcast(opts.deadlineMs)).sent);
    const summary = clock.summary();
    return {
      capacity: {
        subscribers: opts.subscribers,
        failed,
        connectSeconds: Math.round(connectSeconds * 100) / 100,
        heapUsedBefore: before.heapUsed,
        heapUsedAfter: after.heapUsed,
        rssBefore: before.rss,
        rssAfter: after.rss,
        heapPerSubscriber: Math.round((after.heapUsed - before.heapUsed) / Math.max(1, live)),
        rssPerSubscriber: Math.round((after.rss - before.rss) / Math.max(1, live)),
      },
      broadcast: { subscribers: live, ...summary, deliveriesPerSecond: Math.round(live / (summary.toLast.p50Ms / 1000)) },
    };
  } finally {
    for (const stop of stops) stop();
    await runLimited(clients, CONNECT_CONCURRENCY, (c) => Promise.resolve(c.dispose()));
  }
}
