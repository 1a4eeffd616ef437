import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import type { Client } from "graphql-ws";
import { SignJWT } from "jose";
import {
  AcceptBookingDocument,
  BookingStatusChangedDocument,
  CancelBookingDocument,
  LoginDocument,
  ProviderBookingEventsDocument,
  RejectBookingDocument,
  SlotAvailabilityChangedDocument,
  type BookingEventType,
  type BookingStatus,
  type SlotStatus,
} from "../generated/graphql";
import { addSlots, bookSlot, createProvider, providerWithSlots, registerUser, type TestUser } from "../support/factories";
import { executeOk, subscribe, wsClient, type LiveSubscription } from "../support/graphql-client";
import { TEST_JWT_SECRET, startTestServer, type TestServer } from "../support/test-server";
import { channelName, type Topic } from "../../src/events/pubsub";
import { settle } from "../support/wait";

/** Asks for everything nested under the event, so field resolution on the live path is exercised. */
interface DeepEvent {
  bookingStatusChanged: {
    eventId: string;
    eventType: BookingEventType;
    occurredAt: string;
    previousStatus: BookingStatus | null;
    booking: {
      id: string;
      status: BookingStatus;
      reason: string | null;
      customer: { id: string; email: string };
      provider: { id: string; owner: { id: string } };
      slot: { id: string; status: SlotStatus; startsAt: string; provider: { id: string } };
    };
  };
}
const DeepBookingStatusChangedDocument = parse(`
  subscription DeepBookingStatusChanged($bookingId: ID!) {
    bookingStatusChanged(bookingId: $bookingId) {
      eventId eventType occurredAt previousStatus
      booking {
        id status reason
        customer { id email }
        provider { id owner { id } }
        slot { id status startsAt provider { id } }
      }
    }
  }
`) as TypedDocumentNode<DeepEvent, { bookingId: string }>;

const ADMIN = { email: "admin-subscriptions@example.test", password: "admin-password-123" };
let server: TestServer;
let admin: { id: string; token: string };
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
  const login = (await executeOk(server.url, LoginDocument, ADMIN)).login;
  admin = { id: login.user.id, token: login.accessToken };
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(async () => {
  await server.close();
});

function client(token?: string): Client {
  const c = wsClient(server.wsUrl, token);
  clients.push(c);
  return c;
}

/** A provider owned by a fresh PROVIDER, with `count` free slots. */
async function world(count = 3, requiresConfirmation = true) {
  const { owner, provider, slots } = await providerWithSlots(server.url, { count, requiresConfirmation });
  return { owner, provider, slots };
}

/**
 * Resolves once `count` subscribers of this server listen on a topic instance, so a test acts
 * only when its subscriptions are live. Reads the pub/sub engine: graphql-subscriptions'
 * emitter, or graphql-redis-subscriptions' refs (filled once Redis confirmed the SUBSCRIBE).
 */
async function listening(topic: Topic, id: string, count = 1): Promise<void> {
  const channel = channelName(topic, id);
  type Engine = { ee?: { listenerCount(c: string): number }; subsRefsMap?: Map<string, Set<number>> };
  const engine = (server.pubSub as unknown as { engine?: Engine }).engine;
  const current = () => (engine?.subsRefsMap ? (engine.subsRefsMap.get(channel)?.size ?? 0) : engine?.ee?.listenerCount(channel));
  if (current() === undefined) return settle(500); // an engine we cannot inspect: fall back to a pause
  for (const deadline = Date.now() + 10_000; (current() ?? 0) < count; await settle(20)) {
    if (Date.now() > deadline) throw new Error(`${current()} of ${count} subscribers listen on ${channel}`);
  }
}

/** Waits for `n` results and checks, after a pause, that nothing more arrived. */
async function exactly<T>(sub: LiveSubscription<T>, n: number): Promise<T[]> {
  await sub.waitFor(n);
  await settle(300);
  expect(sub.results).toHaveLength(n);
  for (const r of sub.results) expect(r.errors).toBeUndefined();
  return sub.results.map((r) => r.data!);
}

function errorOf(sub: LiveSubscription<unknown>) {
  return sub.waitFor(1).then(([r]) => r!.errors?.[0]?.extensions?.code);
}

test("bookingStatusChanged: customer, owner and admin hear each change of that booking in order, with nested fields resolved", async () => {
  const { owner, provider, slots } = await world();
  const customer = await registerUser(server.url, "CUSTOMER");
  const booking = await bookSlot(server.url, customer, slots[0]!.id);
  const subs = [customer.token, owner.token, admin.token].map((t) => subscribe(client(t), DeepBookingStatusChangedDocument, { bookingId: booking.id }));
  await listening("BOOKING_EVENTS", booking.id, 3);

  // Another booking of the same customer and provider must not leak into these channels.
  const unrelated = await bookSlot(server.url, customer, slots[1]!.id);
  await executeOk(server.url, AcceptBookingDocument, { id: unrelated.id }, owner.token);
  await executeOk(server.url, AcceptBookingDocument, { id: booking.id }, owner.token);
  await Promise.all(subs.map((s) => s.waitFor(1)));
  // Wait before the next change: nested fields are read when the event is delivered.
  await executeOk(server.url, CancelBookingDocument, { id: booking.id, reason: "Feeling better" }, customer.token);

  const received = await Promise.all(subs.map((s) => exactly(s, 2)));
  for (const events of received) {
    const [confirmed, cancelled] = events.map((e) => e.bookingStatusChanged);
    expect(confirmed).toMatchObject({
      eventType: "BOOKING_CONFIRMED",
      previousStatus: "PENDING",
      booking: {
        id: booking.id,
        status: "CONFIRMED",
        reason: null,
        customer: { id: customer.id, email: customer.email },
        provider: { id: provider.id, owner: { id: owner.id } },
        slot: { id: slots[0]!.id, status: "BOOKED", startsAt: slots[0]!.startsAt, provider: { id: provider.id } },
      },
    });
    expect(cancelled).toMatchObject({
      eventType: "BOOKING_CANCELLED",
      previousStatus: "CONFIRMED",
      booking: { id: booking.id, status: "CANCELLED", reason: "Feeling better", slot: { status: "AVAILABLE" } },
    });
    expect(Date.parse(cancelled!.occurredAt)).toBeGreaterThanOrEqual(Date.parse(confirmed!.occurredAt));
    expect(confirmed!.eventId).not.toBe(cancelled!.eventId);
  }
  // Every listener got the same events (same ids), not copies made per listener.
  expect(new Set(received.map((events) => events.map((e) => e.bookingStatusChanged.eventId).join()))).toHaveProperty("size", 1);
});

test("bookingStatusChanged: a rejection arrives with its reason and the released slot", async () => {
  const { owner, slots } = await world(1);
  const customer = await registerUser(server.url, "CUSTOMER");
  const booking = await bookSlot(server.url, customer, slots[0]!.id);
  const sub = subscribe(client(customer.token), BookingStatusChangedDocument, { bookingId: booking.id });
  await listening("BOOKING_EVENTS", booking.id);
  await executeOk(server.url, RejectBookingDocument, { id: booking.id, reason: "On holiday" }, owner.token);
  const [event] = await exactly(sub, 1);
  expect(event!.bookingStatusChanged).toMatchObject({
    eventType: "BOOKING_REJECTED",
    previousStatus: "PENDING",
    booking: { id: booking.id, status: "REJECTED", reason: "On holiday", slot: { id: slots[0]!.id, status: "AVAILABLE" } },
  });
});

test("providerBookingEvents: the owner and an admin hear BOOKING_CREATED and every later transition of that provider only, in order", async () => {
  const a = await world(3);
  const b = await world(1);
  const customer = await registerUser(server.url, "CUSTOMER");
  const ownerSub = subscribe(client(a.owner.token), ProviderBookingEventsDocument, { providerId: a.provider.id });
  const adminSub = subscribe(client(admin.token), ProviderBookingEventsDocument, { providerId: a.provider.id });
  const otherSub = subscribe(client(b.owner.token), ProviderBookingEventsDocument, { providerId: b.provider.id });
  await listening("PROVIDER_BOOKING_EVENTS", a.provider.id, 2);
  await listening("PROVIDER_BOOKING_EVENTS", b.provider.id);

  const elsewhere = await bookSlot(server.url, customer, b.slots[0]!.id);
  const first = await bookSlot(server.url, customer, a.slots[0]!.id);
  await ownerSub.waitFor(1);
  await executeOk(server.url, AcceptBookingDocument, { id: first.id }, a.owner.token);
  await ownerSub.waitFor(2);
  const second = await bookSlot(server.url, customer, a.slots[1]!.id);
  await ownerSub.waitFor(3);
  await executeOk(server.url, RejectBookingDocument, { id: second.id, reason: "Double-booked elsewhere" }, a.owner.token);
  await ownerSub.waitFor(4);
  await executeOk(server.url, CancelBookingDocument, { id: first.id, reason: "Moved away" }, customer.token);

  const expected = [
    { eventType: "BOOKING_CREATED", previousStatus: null, booking: { id: first.id, status: "PENDING", slot: { status: "HELD" } } },
    { eventType: "BOOKING_CONFIRMED", previousStatus: "PENDING", booking: { id: first.id, status: "CONFIRMED", slot: { status: "BOOKED" } } },
    { eventType: "BOOKING_CREATED", previousStatus: null, booking: { id: second.id, status: "PENDING", slot: { status: "HELD" } } },
    { eventType: "BOOKING_REJECTED", previousStatus: "PENDING", booking: { id: second.id, status: "REJECTED", reason: "Double-booked elsewhere", slot: { status: "AVAILABLE" } } },
    { eventType: "BOOKING_CANCELLED", previousStatus: "CONFIRMED", booking: { id: first.id, status: "CANCELLED", reason: "Moved away", slot: { status: "AVAILABLE" } } },
  ];
  expect((await exactly(ownerSub, 5)).map((e) => e.providerBookingEvents)).toMatchObject(expected);
  // The admin's events were resolved later than the owner's, so compare only what the event itself carries.
  const adminEvents = (await exactly(adminSub, 5)).map((e) => e.providerBookingEvents);
  expect(adminEvents.map((e) => [e.eventType, e.booking.id, e.booking.status])).toEqual(expected.map((e) => [e.eventType, e.booking.id, e.booking.status]));
  const other = (await exactly(otherSub, 1)).map((e) => e.providerBookingEvents);
  expect(other).toMatchObject([{ eventType: "BOOKING_CREATED", booking: { id: elsewhere.id } }]);
});

test("providerBookingEvents: an instantly confirmed booking arrives as BOOKING_CREATED then BOOKING_CONFIRMED", async () => {
  const { owner, provider, slots } = await world(1, false);
  const customer = await registerUser(server.url, "CUSTOMER");
  const sub = subscribe(client(owner.token), ProviderBookingEventsDocument, { providerId: provider.id });
  await listening("PROVIDER_BOOKING_EVENTS", provider.id);
  const booking = await bookSlot(server.url, customer, slots[0]!.id);
  const events = (await exactly(sub, 2)).map((e) => e.providerBookingEvents);
  expect(events.map((e) => [e.eventType, e.previousStatus, e.booking.id, e.booking.status])).toEqual([
    ["BOOKING_CREATED", null, booking.id, "PENDING"],
    ["BOOKING_CONFIRMED", "PENDING", booking.id, "CONFIRMED"],
  ]);
});

test("slotAvailabilityChanged: an anonymous listener sees that provider's slots appear, get HELD, BOOKED and released", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner);
  const other = await world(1);
  const sub = subscribe(client(), SlotAvailabilityChangedDocument, { providerId: provider.id });
  await listening("SLOT_EVENTS", provider.id);

  const [s1, s2] = await addSlots(server.url, owner, provider.id, { count: 2 });
  await addSlots(server.url, other.owner, other.provider.id, { count: 1, start: new Date(Date.parse(other.slots[0]!.endsAt)) });
  const customer = await registerUser(server.url, "CUSTOMER");
  await bookSlot(server.url, customer, other.slots[0]!.id);
  const first = await bookSlot(server.url, customer, s1!.id);
  await executeOk(server.url, AcceptBookingDocument, { id: first.id }, owner.token);
  await executeOk(server.url, CancelBookingDocument, { id: first.id }, customer.token);
  const second = await bookSlot(server.url, customer, s2!.id);
  await executeOk(server.url, RejectBookingDocument, { id: second.id }, owner.token);

  const events = (await exactly(sub, 7)).map((e) => e.slotAvailabilityChanged.slot);
  expect(events.map((s) => [s.id, s.status])).toEqual([
    [s1!.id, "AVAILABLE"],
    [s2!.id, "AVAILABLE"],
    [s1!.id, "HELD"],
    [s1!.id, "BOOKED"],
    [s1!.id, "AVAILABLE"],
    [s2!.id, "HELD"],
    [s2!.id, "AVAILABLE"],
  ]);
  expect(events[0]).toEqual({ id: s1!.id, status: "AVAILABLE", startsAt: s1!.startsAt, endsAt: s1!.endsAt });
});

describe("subscriptions are authorised from connectionParams", () => {
  async function pendingBooking() {
    const w = await world(1);
    const customer = await registerUser(server.url, "CUSTOMER");
    return { ...w, customer, booking: await bookSlot(server.url, customer, w.slots[0]!.id) };
  }

  test("bookingStatusChanged: a stranger (customer or provider) gets NOT_FOUND, anonymous gets UNAUTHENTICATED, and none hears anything", async () => {
    const { owner, booking } = await pendingBooking();
    const strangers: (TestUser | undefined)[] = [await registerUser(server.url, "CUSTOMER"), await registerUser(server.url, "PROVIDER"), undefined];
    const subs = strangers.map((u) => subscribe(client(u?.token), BookingStatusChangedDocument, { bookingId: booking.id }));
    expect(await Promise.all(subs.map(errorOf))).toEqual(["NOT_FOUND", "NOT_FOUND", "UNAUTHENTICATED"]);
    await Promise.all(subs.map((s) => s.ended));
    await executeOk(server.url, AcceptBookingDocument, { id: booking.id }, owner.token);
    await settle(300);
    for (const s of subs) {
      expect(s.results).toHaveLength(1);
      expect(s.results[0]!.data ?? null).toBeNull();
    }
  });

  test("providerBookingEvents: the booking's customer and another provider get FORBIDDEN, anonymous gets UNAUTHENTICATED", async () => {
    const { provider, customer } = await pendingBooking();
    const otherOwner = await registerUser(server.url, "PROVIDER");
    const subs = [customer.token, otherOwner.token, undefined].map((t) => subscribe(client(t), ProviderBookingEventsDocument, { providerId: provider.id }));
    expect(await Promise.all(subs.map(errorOf))).toEqual(["FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"]);
  });

  test("a forged, foreign-signed or expired token closes the socket with 4403", async () => {
    const { booking, customer } = await pendingBooking();
    const sign = (secret: string, expiresAt: number) =>
      new SignJWT({ role: "CUSTOMER" })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(customer.id)
        .setIssuer("slotwise")
        .setAudience("slotwise-api")
        .setIssuedAt(expiresAt - 900)
        .setExpirationTime(expiresAt)
        .sign(new TextEncoder().encode(secret));
    const now = Math.floor(Date.now() / 1000);
    const tokens = [
      "not-a-jwt",
      `${customer.token.slice(0, -4)}AAAA`,
      await sign("another-secret-another-secret-0123456789", now + 900),
      await sign(TEST_JWT_SECRET, now - 60),
    ];
    for (const token of tokens) {
      const c = client(token);
      const closed = new Promise<{ code: number }>((resolve) => c.on("closed", (e) => resolve(e as { code: number })));
      const sub = subscribe(c, BookingStatusChangedDocument, { bookingId: booking.id });
      expect(((await sub.ended) as { code?: number }).code).toBe(4403);
      expect((await closed).code).toBe(4403);
      expect(sub.results).toEqual([]);
    }
    // Control: the same subscription with the customer's real token is accepted.
    const ok = subscribe(client(customer.token), BookingStatusChangedDocument, { bookingId: booking.id });
    await listening("BOOKING_EVENTS", booking.id);
    await executeOk(server.url, CancelBookingDocument, { id: booking.id }, customer.token);
    expect((await exactly(ok, 1))[0]!.bookingStatusChanged.eventType).toBe("BOOKING_CANCELLED");
  });
});
