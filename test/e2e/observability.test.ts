import { and, eq } from "drizzle-orm";
import { print } from "graphql";
import type { Client } from "graphql-ws";
import { outbox } from "../../src/db/schema";
import { CreateBookingDocument, ProviderBookingEventsDocument } from "../generated/graphql";
import { providerWithSlots, registerUser } from "../support/factories";
import { subscribe, wsClient } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import { metricTypes, sampleValue } from "../unit/prometheus-text";
import { settle, sleep } from "../support/wait";

// Observability of a real server: /metrics, request ids from the HTTP header into the outbox,
// booking transitions, graphql-ws gauges and per-operation timing.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const METRIC_NAMES = [
  "graphql_request_duration_seconds",
  "graphql_ws_connections",
  "graphql_ws_subscriptions",
  "booking_transitions_total",
  "outbox_backlog_events",
  "outbox_oldest_age_seconds",
  "outbox_relay_send_failures_total",
  "pubsub_publish_failures_total",
];

let server: TestServer;
let metricsUrl: string;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer();
  metricsUrl = new URL("/metrics", server.url).toString();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await server?.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  return res.text();
}

/** A customer, a provider that requires confirmation and `count` free slots. */
async function market(count = 2) {
  const customer = await registerUser(server.url, "CUSTOMER");
  const { owner, provider, slots } = await providerWithSlots(server.url, { count });
  return { customer, owner, provider, slots };
}

/** createBooking over HTTP, with optional extra headers; returns the response's x-request-id too. */
async function createBooking(slotId: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query: print(CreateBookingDocument), variables: { input: { slotId } }, operationName: "CreateBooking" }),
  });
  const body = (await res.json()) as { data?: { createBooking: { id: string } } | null; errors?: { extensions?: { code?: string } }[] };
  return { requestId: res.headers.get("x-request-id"), body };
}

async function createdEventPayload(bookingId: string): Promise<Record<string, unknown>> {
  const rows = await server.database.db
    .select()
    .from(outbox)
    .where(and(eq(outbox.bookingId, bookingId), eq(outbox.eventType, "BOOKING_CREATED")));
  expect(rows).toHaveLength(1);
  return rows[0]!.payload as Record<string, unknown>;
}

async function gaugesBecome(want: { connections: number; subscriptions: number }) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await scrape();
    const now = { connections: sampleValue(text, "graphql_ws_connections"), subscriptions: sampleValue(text, "graphql_ws_subscriptions") };
    if ((now.connections === want.connections && now.subscriptions === want.subscriptions) || Date.now() > deadline) return now;
    await sleep(50);
  }
}

test("GET /metrics answers Prometheus text with every Slotwise metric", async () => {
  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const types = metricTypes(await res.text());
  for (const name of METRIC_NAMES) expect([name, types.has(name)]).toEqual([name, true]);
  expect(types.has("process_cpu_user_seconds_total")).toBe(true);
});

test("x-request-id sent with createBooking is echoed and carried by the BOOKING_CREATED outbox event", async () => {
  const { customer, slots } = await market(1);
  const { requestId, body } = await createBooking(slots[0]!.id, customer.token, { "x-request-id": "req-abc-123" });
  expect(body.errors).toBeUndefined();
  expect(requestId).toBe("req-abc-123");
  expect(await createdEventPayload(body.data!.createBooking.id)).toMatchObject({ eventType: "BOOKING_CREATED", requestId: "req-abc-123" });
});

test("without x-request-id (or with an invalid one) a UUID is generated, echoed, and carried by the event", async () => {
  const { customer, slots } = await market(2);
  const plain = await createBooking(slots[0]!.id, customer.token);
  expect(plain.requestId).toMatch(UUID);
  expect((await createdEventPayload(plain.body.data!.createBooking.id)).requestId).toBe(plain.requestId);

  const invalid = await createBooking(slots[1]!.id, customer.token, { "x-request-id": "not valid; injected" });
  expect(invalid.requestId).toMatch(UUID);
  expect((await createdEventPayload(invalid.body.data!.createBooking.id)).requestId).toBe(invalid.requestId);
});

test("booking_transitions_total{event_type=BOOKING_CREATED} rises with each booking", async () => {
  const { customer, slots } = await market(2);
  const before = sampleValue(await scrape(), "booking_transitions_total", { event_type: "BOOKING_CREATED" }) ?? 0;
  for (const slot of slots) expect((await createBooking(slot.id, customer.token)).body.errors).toBeUndefined();
  const after = sampleValue(await scrape(), "booking_transitions_total", { event_type: "BOOKING_CREATED" });
  // Other files' servers have their own registries; within this server only this test books now.
  expect(after).toBe(before + 2);
});

test("graphql_request_duration_seconds has CreateBooking samples for outcome ok and outcome error", async () => {
  const { customer, slots } = await market(1);
  const before = await scrape();
  const count = (text: string, outcome: string) => sampleValue(text, "graphql_request_duration_seconds_count", { operation: "CreateBooking", outcome }) ?? 0;
  expect((await createBooking(slots[0]!.id, customer.token)).body.errors).toBeUndefined();
  // The same slot again: CONFLICT, so the operation's outcome is error.
  const lost = await createBooking(slots[0]!.id, customer.token);
  expect(lost.body.errors?.[0]?.extensions?.code).toBe("CONFLICT");
  const after = await scrape();
  expect(count(after, "ok")).toBe(count(before, "ok") + 1);
  expect(count(after, "error")).toBe(count(before, "error") + 1);
});

test("a graphql-ws connection and subscription move the ws gauges up, and back down after disconnect", async () => {
  const { owner, provider } = await market(1);
  expect(await gaugesBecome({ connections: 0, subscriptions: 0 })).toEqual({ connections: 0, subscriptions: 0 });
  const client = wsClient(server.wsUrl, owner.token);
  clients.push(client);
  const live = subscribe(client, ProviderBookingEventsDocument, { providerId: provider.id });
  await settle();
  expect(await gaugesBecome({ connections: 1, subscriptions: 1 })).toEqual({ connections: 1, subscriptions: 1 });
  live.stop();
  expect(await gaugesBecome({ connections: 1, subscriptions: 0 })).toEqual({ connections: 1, subscriptions: 0 });

  subscribe(client, ProviderBookingEventsDocument, { providerId: provider.id });
  expect(await gaugesBecome({ connections: 1, subscriptions: 1 })).toEqual({ connections: 1, subscriptions: 1 });
  // Disconnect with the subscription still active.
  await client.dispose();
  expect(await gaugesBecome({ connections: 0, subscriptions: 0 })).toEqual({ connections: 0, subscriptions: 0 });
});

test("a mutation over graphql-ws carries the operation's request id into its outbox event", async () => {
  const { customer, slots } = await market(1);
  const client = wsClient(server.wsUrl, customer.token);
  clients.push(client);
  const op = subscribe(client, CreateBookingDocument, { input: { slotId: slots[0]!.id } });
  const [result] = await op.waitFor(1);
  expect(result!.errors).toBeUndefined();
  const payload = await createdEventPayload(result!.data!.createBooking.id);
  expect(payload.requestId).toMatch(UUID);
  await client.dispose();
});
