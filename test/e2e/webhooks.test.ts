import { eq } from "drizzle-orm";
import { webhookDeliveries } from "../../src/db/schema";
import {
  AcceptBookingDocument,
  CancelBookingDocument,
  CreateWebhookEndpointDocument,
  LoginDocument,
  RedeliverWebhookDocument,
  RotateWebhookSecretDocument,
  UpdateWebhookEndpointDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
  type BookingEventType,
} from "../generated/graphql";
import { addSlots, bookSlot, createProvider, providerWithSlots, registerUser, type TestUser } from "../support/factories";
import { executeOk } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import { WebhookReceiver, verifies } from "../support/webhook-receiver";
import { sleep, waitFor } from "../support/wait";

/** How long a webhook delivery may take to show up before a wait gives up. */
const DELIVERY_WAIT = { timeoutMs: 20_000 };

/**
 * Signed webhooks end to end: a real server (PGlite, or PostgreSQL + Redis in that mode) with its
 * delivery worker, and real HTTP receivers on 127.0.0.1. Retries are shortened by
 * WEBHOOK_RETRY_SCHEDULE (500ms,1s,2s: 4 attempts) and the timeout by WEBHOOK_TIMEOUT_MS.
 */

jest.setTimeout(60_000);

const ADMIN = { email: "admin-webhooks@example.test", password: "admin-password-webhooks" };
const WEBHOOK_ENV = {
  WEBHOOK_DELIVERY: "on",
  WEBHOOK_RETRY_SCHEDULE: "500ms,1s,2s",
  WEBHOOK_TIMEOUT_MS: "1000",
  WEBHOOK_POLL_MS: "100",
  WEBHOOK_DISABLE_AFTER: "1h",
};

let server: TestServer;
let admin: { token: string };
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { ...WEBHOOK_ENV, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
  admin = { token: (await executeOk(server.url, LoginDocument, ADMIN)).login.accessToken };
});
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.down();
});
afterAll(() => server.close());

async function receiver(respond?: ConstructorParameters<typeof WebhookReceiver>[0]): Promise<WebhookReceiver> {
  return receivers[receivers.push(await new WebhookReceiver(respond).up()) - 1]!;
}

/** A provider owner with one provider and free slots. */
async function providerWorld(): Promise<{ owner: TestUser; providerId: string; slotIds: string[]; customer: TestUser }> {
  const { owner, providerId, slots } = await providerWithSlots(server.url, { count: 6 });
  const customer = await registerUser(server.url, "CUSTOMER");
  return { owner, providerId, slotIds: slots.map((s) => s.id), customer };
}

async function createEndpoint(token: string, url: string, opts: { providerId?: string; eventTypes?: BookingEventType[] } = {}) {
  return (await executeOk(server.url, CreateWebhookEndpointDocument, { input: { url, ...opts } }, token)).createWebhookEndpoint;
}

async function deliveriesOf(token: string, endpointId: string) {
  const data = await executeOk(server.url, WebhookDeliveriesDocument, { id: endpointId, first: 100 }, token);
  return data.webhookEndpoint.deliveries.edges.map((e) => e.node);
}

/** Books a slot, accepts it and cancels it: three events of one booking, in that commit order. */
async function bookingHistory(w: Awaited<ReturnType<typeof providerWorld>>, slot = 0): Promise<string> {
  const booking = await bookSlot(server.url, w.customer, w.slotIds[slot]!);
  await executeOk(server.url, AcceptBookingDocument, { id: booking.id }, w.owner.token);
  await executeOk(server.url, CancelBookingDocument, { id: booking.id, reason: "changed plans" }, w.customer.token);
  return booking.id;
}

test("delivers each event as a Standard Webhooks request, signed with the secret shown once, in commit order", async () => {
  const w = await providerWorld();
  const r = await receiver();
  const created = await createEndpoint(w.owner.token, r.url);
  expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
  expect(created.endpoint).toMatchObject({ url: r.url, eventTypes: [], provider: null, enabled: true, disabledReason: null });
  const bookingId = await bookingHistory(w);

  await waitFor("three deliveries", () => r.received.length >= 3, DELIVERY_WAIT);
  expect(r.types()).toEqual(["BOOKING_CREATED", "BOOKING_CONFIRMED", "BOOKING_CANCELLED"]);
  for (const req of r.received) {
    expect(verifies(req, created.secret)).toBe(true);
    expect(req.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(Math.abs(Number(req.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    expect(req.headers["content-type"]).toBe("application/json");
    // The same envelope as the SQS body.
    expect(req.event).toMatchObject({ bookingId, providerId: w.providerId, version: 1, userId: w.customer.id });
  }
  await waitFor("recorded as SUCCEEDED", async () => (await deliveriesOf(w.owner.token, created.endpoint.id)).every((d) => d.status === "SUCCEEDED"), DELIVERY_WAIT);
  const deliveries = await deliveriesOf(w.owner.token, created.endpoint.id);
  // Newest first.
  expect(deliveries.map((d) => d.eventType)).toEqual(["BOOKING_CANCELLED", "BOOKING_CONFIRMED", "BOOKING_CREATED"]);
  expect(deliveries.map((d) => d.eventId)).toEqual(r.received.map((x) => x.event.eventId).reverse());
  expect(deliveries[0]).toMatchObject({ attempts: 1, lastResponseStatus: 204, lastError: null, nextAttemptAt: null });
});

test("a receiver failing 3 times then succeeding gets the event on the 4th attempt; the booking's next event waits for it", async () => {
  const w = await providerWorld();
  const r = await receiver((_req, i) => (i < 3 ? { status: 500, body: "not now" } : { status: 200 }));
  const { endpoint, secret } = await createEndpoint(w.owner.token, r.url);
  await bookingHistory(w);

  await waitFor("all three delivered", () => r.received.length >= 6, DELIVERY_WAIT);
  await sleep(300);
  expect(r.types()).toEqual(["BOOKING_CREATED", "BOOKING_CREATED", "BOOKING_CREATED", "BOOKING_CREATED", "BOOKING_CONFIRMED", "BOOKING_CANCELLED"]);
  expect(r.verifiedWith(secret)).toHaveLength(6);
  // Retries follow the schedule (500 ms, 1 s, 2 s, each ±20 %).
  const gaps = r.received.slice(1, 4).map((x, i) => x.at - r.received[i]!.at);
  expect(gaps[0]).toBeGreaterThanOrEqual(400);
  expect(gaps[1]).toBeGreaterThanOrEqual(800);
  expect(gaps[2]).toBeGreaterThanOrEqual(1600);
  const first = (await deliveriesOf(w.owner.token, endpoint.id)).find((d) => d.eventType === "BOOKING_CREATED")!;
  expect(first).toMatchObject({ status: "SUCCEEDED", attempts: 4, lastResponseStatus: 200, lastError: null });
});

test("a receiver that is down for a while gets everything once it is back, in order", async () => {
  const w = await providerWorld();
  const r = await receiver();
  const { endpoint } = await createEndpoint(w.owner.token, r.url);
  await r.down();
  await bookingHistory(w);
  await waitFor("a failed attempt recorded", async () => (await deliveriesOf(w.owner.token, endpoint.id)).some((d) => d.attempts > 0), DELIVERY_WAIT);
  const failing = (await deliveriesOf(w.owner.token, endpoint.id)).find((d) => d.attempts > 0)!;
  expect(failing).toMatchObject({ status: "PENDING", eventType: "BOOKING_CREATED", lastResponseStatus: null });
  expect(failing.lastError).toMatch(/ECONNREFUSED/);
  expect(new Date(failing.nextAttemptAt!).getTime()).toBeGreaterThan(new Date(failing.lastAttemptAt!).getTime());
  await r.up();
  await waitFor("all three delivered", () => r.received.length >= 3, DELIVERY_WAIT);
  expect(r.types()).toEqual(["BOOKING_CREATED", "BOOKING_CONFIRMED", "BOOKING_CANCELLED"]);
});

test("after the last retry a delivery is FAILED with the status and a truncated body; the next event goes on", async () => {
  const w = await providerWorld();
  const r = await receiver((req) => (req.event.eventType === "BOOKING_CREATED" ? { status: 503, body: "x".repeat(5_000) } : { status: 200 }));
  const { endpoint } = await createEndpoint(w.owner.token, r.url);
  await bookingHistory(w);
  await waitFor("the later events delivered", () => r.types().includes("BOOKING_CANCELLED"), { timeoutMs: 30_000 });
  expect(r.types()).toEqual(["BOOKING_CREATED", "BOOKING_CREATED", "BOOKING_CREATED", "BOOKING_CREATED", "BOOKING_CONFIRMED", "BOOKING_CANCELLED"]);
  const failed = (await deliveriesOf(w.owner.token, endpoint.id)).find((d) => d.eventType === "BOOKING_CREATED")!;
  expect(failed).toMatchObject({ status: "FAILED", attempts: 4, lastResponseStatus: 503, nextAttemptAt: null });
  expect(failed.lastError!.startsWith("HTTP 503: xxxx")).toBe(true);
  expect(failed.lastError!.length).toBeLessThan(1_100);
  // One failure is no reason to disable (WEBHOOK_DISABLE_AFTER is 1 h here).
  expect((await executeOk(server.url, WebhookEndpointsDocument, {}, w.owner.token)).webhookEndpoints[0]!.enabled).toBe(true);
});

test("410 Gone disables the endpoint at once: its pending deliveries are FAILED and no new ones are made", async () => {
  const w = await providerWorld();
  const r = await receiver(() => ({ status: 410 }));
  const { endpoint } = await createEndpoint(w.owner.token, r.url);
  await bookingHistory(w);
  await waitFor("disabled", async () => !(await executeOk(server.url, WebhookEndpointsDocument, {}, w.owner.token)).webhookEndpoints[0]!.enabled, DELIVERY_WAIT);
  const [listed] = (await executeOk(server.url, WebhookEndpointsDocument, {}, w.owner.token)).webhookEndpoints;
  expect(listed!.disabledReason).toMatch(/410 Gone/);
  await waitFor("none pending", async () => (await deliveriesOf(w.owner.token, endpoint.id)).every((d) => d.status === "FAILED"), DELIVERY_WAIT);
  // The later events were either fanned out before the 410 (then given up) or after (then not made).
  const before = await deliveriesOf(w.owner.token, endpoint.id);
  expect(before.length).toBeGreaterThanOrEqual(1);
  expect(before.length).toBeLessThanOrEqual(3);
  expect(before.at(-1)).toMatchObject({ eventType: "BOOKING_CREATED", status: "FAILED", attempts: 1, lastResponseStatus: 410 });
  await bookingHistory(w, 1);
  await sleep(800);
  expect(r.received).toHaveLength(1);
  expect(await deliveriesOf(w.owner.token, endpoint.id)).toHaveLength(before.length);
});

test("a receiver that hangs is timed out (WEBHOOK_TIMEOUT_MS) and retried", async () => {
  const w = await providerWorld();
  const r = await receiver((_req, i) => (i === 0 ? "hang" : { status: 200 }));
  const { endpoint } = await createEndpoint(w.owner.token, r.url, { eventTypes: ["BOOKING_CREATED"] });
  const started = Date.now();
  await bookSlot(server.url, w.customer, w.slotIds[0]!);
  await waitFor("retried after the timeout", () => r.received.length >= 2, DELIVERY_WAIT);
  expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(1_000);
  await waitFor("succeeded", async () => (await deliveriesOf(w.owner.token, endpoint.id))[0]?.status === "SUCCEEDED", DELIVERY_WAIT);
  const [d] = await deliveriesOf(w.owner.token, endpoint.id);
  expect(d).toMatchObject({ attempts: 2, lastResponseStatus: 200 });
  expect(Date.now() - started).toBeLessThan(20_000);
});

test("filters: event types, one provider, every provider of the owner, and an admin's endpoint gets all", async () => {
  const w = await providerWorld();
  const second = await createProvider(server.url, w.owner);
  const secondSlots = await addSlots(server.url, w.owner, second.id, { count: 2 });
  const stranger = await providerWorld();
  const [onlyConfirmed, onlyFirst, everyOwned, all] = [await receiver(), await receiver(), await receiver(), await receiver()];
  await createEndpoint(w.owner.token, onlyConfirmed.url, { eventTypes: ["BOOKING_CONFIRMED"] });
  await createEndpoint(w.owner.token, onlyFirst.url, { providerId: w.providerId });
  await createEndpoint(w.owner.token, everyOwned.url);
  await createEndpoint(admin.token, all.url);

  const b1 = await bookingHistory(w); // first provider: 3 events
  const b2 = (await bookSlot(server.url, w.customer, secondSlots[0]!.id)).id; // second provider: 1 event
  const b3 = (await bookSlot(server.url, stranger.customer, stranger.slotIds[0]!)).id; // someone else's provider

  await waitFor("everything delivered", () => all.received.filter((x) => [b1, b2, b3].includes(x.event.bookingId)).length >= 5 && everyOwned.received.length >= 4, DELIVERY_WAIT);
  await sleep(500);
  expect(onlyConfirmed.received.map((x) => [x.event.bookingId, x.event.eventType])).toEqual([[b1, "BOOKING_CONFIRMED"]]);
  expect(onlyFirst.received.map((x) => x.event.bookingId)).toEqual([b1, b1, b1]);
  expect(new Set(everyOwned.received.map((x) => x.event.bookingId))).toEqual(new Set([b1, b2]));
  expect(everyOwned.received).toHaveLength(4);
  expect(new Set(all.received.filter((x) => [b1, b2, b3].includes(x.event.bookingId)).map((x) => x.event.bookingId))).toEqual(new Set([b1, b2, b3]));
});

test("rotating the secret: deliveries from then on are signed with the new one only", async () => {
  const w = await providerWorld();
  const r = await receiver();
  const { endpoint, secret: oldSecret } = await createEndpoint(w.owner.token, r.url, { eventTypes: ["BOOKING_CREATED"] });
  await bookSlot(server.url, w.customer, w.slotIds[0]!);
  await waitFor("first delivery", () => r.received.length >= 1, DELIVERY_WAIT);
  const rotated = (await executeOk(server.url, RotateWebhookSecretDocument, { id: endpoint.id }, w.owner.token)).rotateWebhookSecret;
  expect(rotated.secret).not.toBe(oldSecret);
  expect(rotated.secret).toMatch(/^whsec_/);
  await bookSlot(server.url, w.customer, w.slotIds[1]!);
  await waitFor("second delivery", () => r.received.length >= 2, DELIVERY_WAIT);
  expect(verifies(r.received[0]!, oldSecret)).toBe(true);
  expect(verifies(r.received[1]!, rotated.secret)).toBe(true);
  expect(verifies(r.received[1]!, oldSecret)).toBe(false);
});

test("redeliver sends one event again as a new delivery; disabling gives up pending ones; deliveries page newest first", async () => {
  const w = await providerWorld();
  const r = await receiver();
  const { endpoint } = await createEndpoint(w.owner.token, r.url);
  await bookingHistory(w);
  await waitFor("three delivered", () => r.received.length >= 3, DELIVERY_WAIT);
  const createdEvent = r.received[0]!.event;
  const again = (await executeOk(server.url, RedeliverWebhookDocument, { endpointId: endpoint.id, eventId: createdEvent.eventId }, w.owner.token)).redeliverWebhook;
  expect(again).toMatchObject({ eventId: createdEvent.eventId, eventType: "BOOKING_CREATED", status: "PENDING", attempts: 0 });
  await waitFor("redelivered", () => r.received.length >= 4, DELIVERY_WAIT);
  expect(r.received[3]!.headers["webhook-id"]).toBe(createdEvent.eventId);

  const page1 = (await executeOk(server.url, WebhookDeliveriesDocument, { id: endpoint.id, first: 2 }, w.owner.token)).webhookEndpoint.deliveries;
  expect(page1.pageInfo.hasNextPage).toBe(true);
  expect(page1.edges.map((e) => e.node.id)).toEqual([again.id, page1.edges[1]!.node.id]);
  const page2 = (await executeOk(server.url, WebhookDeliveriesDocument, { id: endpoint.id, first: 2, after: page1.pageInfo.endCursor }, w.owner.token)).webhookEndpoint.deliveries;
  expect(page2.pageInfo.hasNextPage).toBe(false);
  expect(page2.edges.map((e) => e.node.eventType)).toEqual(["BOOKING_CONFIRMED", "BOOKING_CREATED"]);
  expect(Number(page2.edges[0]!.node.id)).toBeLessThan(Number(page1.edges[1]!.node.id));

  // Disabled by its owner while a delivery waits for a retry: it is given up, and nothing new is made.
  r.respond = () => ({ status: 500 });
  const pending = (await executeOk(server.url, RedeliverWebhookDocument, { endpointId: endpoint.id, eventId: createdEvent.eventId }, w.owner.token)).redeliverWebhook;
  await waitFor("a failed attempt", async () => (await server.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, Number(pending.id))))[0]!.attempts > 0, DELIVERY_WAIT);
  const disabled = (await executeOk(server.url, UpdateWebhookEndpointDocument, { id: endpoint.id, input: { url: r.url, enabled: false } }, w.owner.token)).updateWebhookEndpoint;
  expect(disabled).toMatchObject({ enabled: false, disabledReason: "disabled by its owner" });
  const [row] = await server.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, Number(pending.id)));
  expect(row).toMatchObject({ status: "FAILED", nextAttemptAt: null });
  await bookingHistory(w, 1);
  await sleep(500);
  expect(await deliveriesOf(w.owner.token, endpoint.id)).toHaveLength(5);
  const enabled = (await executeOk(server.url, UpdateWebhookEndpointDocument, { id: endpoint.id, input: { url: r.url, enabled: true } }, w.owner.token)).updateWebhookEndpoint;
  expect(enabled).toMatchObject({ enabled: true, disabledReason: null });
});

test("an endpoint failing without a success for WEBHOOK_DISABLE_AFTER is disabled with a reason", async () => {
  const short = await startTestServer({ env: { ...WEBHOOK_ENV, WEBHOOK_RETRY_SCHEDULE: "300ms,300ms,300ms,300ms,300ms,300ms", WEBHOOK_DISABLE_AFTER: "1s" } });
  try {
    const owner = await registerUser(short.url, "PROVIDER");
    const provider = await createProvider(short.url, owner);
    const [slot] = await addSlots(short.url, owner, provider.id, { count: 1 });
    const customer = await registerUser(short.url, "CUSTOMER");
    const r = await receiver(() => ({ status: 500 }));
    await executeOk(short.url, CreateWebhookEndpointDocument, { input: { url: r.url } }, owner.token);
    await bookSlot(short.url, customer, slot!.id);
    const listed = async () => (await executeOk(short.url, WebhookEndpointsDocument, {}, owner.token)).webhookEndpoints[0]!;
    await waitFor("disabled", async () => !(await listed()).enabled, DELIVERY_WAIT);
    expect((await listed()).disabledReason).toMatch(/^failing without a success since \d{4}-/);
    // The streak started at the first failure and lasted at least WEBHOOK_DISABLE_AFTER.
    const times = r.received.map((x) => x.at);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(900);
  } finally {
    await short.close();
  }
});

test("redirects are not followed: a 3xx is a failed attempt and the target is never contacted", async () => {
  const w = await providerWorld();
  const target = await receiver();
  const r = await receiver((_req, i) => (i === 0 ? { status: 307, headers: { location: target.url } } : { status: 200 }));
  const { endpoint } = await createEndpoint(w.owner.token, r.url, { eventTypes: ["BOOKING_CREATED"] });
  await bookSlot(server.url, w.customer, w.slotIds[0]!);
  await waitFor("a failed attempt", async () => ((await deliveriesOf(w.owner.token, endpoint.id))[0]?.attempts ?? 0) >= 1, DELIVERY_WAIT);
  const [failed] = await deliveriesOf(w.owner.token, endpoint.id);
  expect(failed!.lastResponseStatus).toBe(307);
  expect(failed!.lastError).toContain(`redirect to ${target.url} not followed`);
  await waitFor("retried after the 307", () => r.received.length >= 2, DELIVERY_WAIT);
  await waitFor("succeeded", async () => (await deliveriesOf(w.owner.token, endpoint.id))[0]?.status === "SUCCEEDED", DELIVERY_WAIT);
  expect((await deliveriesOf(w.owner.token, endpoint.id))[0]).toMatchObject({ attempts: 2 });
  expect(target.received).toHaveLength(0);
});
