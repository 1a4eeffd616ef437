import { randomUUID } from "node:crypto";
import type { Client } from "graphql-ws";
import { addSlots, bookSlot, createProvider, futureHour, registerUser, type TestUser } from "../support/factories";
import { executeOk, wsClient } from "../support/graphql-client";
import { LoginDocument } from "../generated/graphql";
import { startTestServer, type TestServer } from "../support/test-server";
import { settle } from "../support/wait";

/**
 * Issue 10 item 9: `User.email` is shown only to the user, admins and the other party of a booking
 * they share (a customer and the owner of the provider they booked); anyone else, anonymous
 * callers included, gets null: on `providers`/`provider`, on bookings, and through the public
 * `slotAvailabilityChanged` subscription.
 */
let server: TestServer;
const clients: Client[] = [];
const ADMIN = { email: `admin-${randomUUID()}@example.test`, password: "admin-password-0123456789" };
let owner: TestUser;
let otherOwner: TestUser;
let customer: TestUser;
let stranger: TestUser;
let adminToken: string;
let providerId: string;
let bookingId: string;

beforeAll(async () => {
  server = await startTestServer({ env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
  [owner, otherOwner, customer, stranger] = await Promise.all([
    registerUser(server.url, "PROVIDER"),
    registerUser(server.url, "PROVIDER"),
    registerUser(server.url),
    registerUser(server.url),
  ]);
  providerId = (await createProvider(server.url, owner)).id;
  await createProvider(server.url, otherOwner);
  const slots = await addSlots(server.url, owner, providerId, { count: 3 });
  bookingId = (await bookSlot(server.url, customer, slots[0]!.id)).id;
  adminToken = (await executeOk(server.url, LoginDocument, ADMIN)).login.accessToken;
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await server.close();
});

async function gql(query: string, variables: Record<string, unknown>, token?: string): Promise<Record<string, any>> {
  const res = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

const viewers = () =>
  ({
    anonymous: undefined,
    "the owner": owner.token,
    "the customer who booked": customer.token,
    "a customer who never booked": stranger.token,
    "another provider's owner": otherOwner.token,
    "an admin": adminToken,
  }) as Record<string, string | undefined>;

test("the owner's email on provider and providers: for the owner, a customer who booked, and admins; null for the rest", async () => {
  const seen: Record<string, unknown> = {};
  for (const [who, token] of Object.entries(viewers())) {
    const one = await gql("query($id: ID!) { provider(id: $id) { owner { id email } } }", { id: providerId }, token);
    const list = await gql("{ providers(first: 100) { edges { node { id owner { email } } } } }", {}, token);
    const inList = (list.providers.edges as { node: { id: string; owner: { email: string | null } } }[]).find((e) => e.node.id === providerId)!.node.owner.email;
    expect(inList).toBe(one.provider.owner.email);
    seen[who] = one.provider.owner.email;
  }
  expect(seen).toEqual({
    anonymous: null,
    "the owner": owner.email,
    "the customer who booked": owner.email,
    "a customer who never booked": null,
    "another provider's owner": null,
    "an admin": owner.email,
  });
});

test("a booking's customer email: for the customer, the provider's owner and admins", async () => {
  const q = "query($id: ID!) { booking(id: $id) { customer { email } provider { owner { email } } } }";
  for (const token of [customer.token, owner.token, adminToken]) {
    expect((await gql(q, { id: bookingId }, token)).booking).toEqual({ customer: { email: customer.email }, provider: { owner: { email: owner.email } } });
  }
  const page = await gql("query($id: ID!) { providerBookings(providerId: $id) { edges { node { customer { email } } } } }", { id: providerId }, owner.token);
  expect(page.providerBookings.edges.map((e: { node: { customer: { email: string } } }) => e.node.customer.email)).toEqual([customer.email]);
});

test("me and the signed-in payloads show the user's own email", async () => {
  expect((await gql("{ me { email } }", {}, stranger.token)).me.email).toBe(stranger.email);
  const login = await gql("mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { email } } }", { e: stranger.email, p: stranger.password });
  expect(login.login.user.email).toBe(stranger.email);
});

test("the public slotAvailabilityChanged does not carry the owner's email to an anonymous listener", async () => {
  const client = wsClient(server.wsUrl);
  clients.push(client);
  const received: any[] = [];
  client.subscribe(
    { query: "subscription($id: ID!) { slotAvailabilityChanged(providerId: $id) { slot { id provider { owner { id email } } } } }", variables: { id: providerId } },
    { next: (v) => received.push(v), error: () => undefined, complete: () => undefined },
  );
  await settle(300);
  const slots = await addSlots(server.url, owner, providerId, { count: 1, start: futureHour(72) });
  for (let i = 0; i < 50 && received.length === 0; i++) await settle(100);
  expect(slots).toHaveLength(1);
  expect(received.length).toBeGreaterThan(0);
  for (const r of received) expect(r.data.slotAvailabilityChanged.slot.provider.owner).toEqual({ id: owner.id, email: null });
});
