import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import {
  AcceptBookingDocument,
  AddAvailabilityDocument,
  AvailableSlotsDocument,
  BookingDocument,
  CancelBookingDocument,
  CreateBookingDocument,
  CreateProviderDocument,
  LoginDocument,
  MeDocument,
  MyBookingsDocument,
  ProviderBookingsDocument,
  ProviderDocument,
  ProvidersDocument,
  RegisterDocument,
  RejectBookingDocument,
  type BookingStatus,
} from "../generated/graphql";
import { addSlots, bookSlot, createProvider, futureHour, registerUser, type TestUser } from "../support/factories";
import { errorCode, execute, executeOk, type GqlResult } from "../support/graphql-client";
import { TEST_JWT_SECRET, startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue #2: bad input gets the right `extensions.code` and changes nothing. Each group
 * builds its own world, and after every rejected call the observable state of that world
 * (slots, bookings seen by customer and owner, providers) must be exactly what it was.
 */
const HOUR = 3_600_000;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

interface World {
  owner: TestUser;
  customer: TestUser;
  provider: { id: string };
  /** Free slots; `pending` and `confirmed` hold the slots just before them. */
  free: { id: string; startsAt: string }[];
  pending: { id: string };
  confirmed: { id: string };
}

async function makeWorld(): Promise<World> {
  const [owner, customer] = await Promise.all([registerUser(server.url, "PROVIDER"), registerUser(server.url, "CUSTOMER")]);
  const provider = await createProvider(server.url, owner);
  const slots = await addSlots(server.url, owner, provider.id, { count: 4, slotMinutes: 60 });
  const pending = await bookSlot(server.url, customer, slots[0]!.id);
  const confirmed = await bookSlot(server.url, customer, slots[1]!.id);
  await executeOk(server.url, AcceptBookingDocument, { id: confirmed.id }, owner.token);
  return { owner, customer, provider, free: slots.slice(2), pending, confirmed };
}

/** Everything a bad call could have changed, as seen through the API. */
async function snapshot(w: World) {
  const now = Date.now();
  const slots = await executeOk(server.url, AvailableSlotsDocument, {
    providerId: w.provider.id,
    from: new Date(now).toISOString(),
    to: new Date(now + 90 * 24 * HOUR).toISOString(),
  });
  const bookingView = (e: { node: { id: string; status: BookingStatus; reason: string | null; slot: { status: string }; history: unknown[] } }) =>
    [e.node.id, e.node.status, e.node.reason, e.node.slot.status, e.node.history.length] as const;
  const mine = await executeOk(server.url, MyBookingsDocument, { first: 100 }, w.customer.token);
  const theirs = await executeOk(server.url, ProviderBookingsDocument, { providerId: w.provider.id, first: 100 }, w.owner.token);
  const providers = await executeOk(server.url, ProvidersDocument, { first: 100 });
  return {
    slots: slots.availableSlots.map((s) => [s.id, s.startsAt, s.endsAt, s.status]),
    mine: mine.myBookings.edges.map(bookingView),
    theirs: theirs.providerBookings.edges.map(bookingView),
    providers: providers.providers.edges.map((e) => e.node.id),
  };
}

type Case = [name: string, call: (w: World) => Promise<GqlResult<unknown>>, code: string];

/** One world for the group; every case must fail with `code` and leave the world as it was. */
function rejects(cases: Case[], extra?: (result: GqlResult<unknown>) => void) {
  let w: World;
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    w = await makeWorld();
    before = await snapshot(w);
  });
  test.each(cases)("%s", async (_name, call, code) => {
    const result = await call(w);
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    extra?.(result);
    expect(await snapshot(w)).toEqual(before);
  });
}

const url = () => server.url;
const iso = (ms: number) => new Date(ms).toISOString();
const window = (w: World, startMs: number, endMs: number, slotMinutes: number) =>
  execute(url(), AddAvailabilityDocument, { input: { providerId: w.provider.id, startsAt: iso(startMs), endsAt: iso(endMs), slotMinutes } }, w.owner.token);
const far = () => futureHour(24 * 40).getTime();

describe("ids", () => {
  const ids: [label: string, id: () => string, code: string][] = [
    ["an unknown id", () => randomUUID(), "NOT_FOUND"],
    ["a malformed id", () => "abc", "BAD_USER_INPUT"],
  ];
  rejects(
    ids.flatMap(([label, id, code]): Case[] => [
      [`booking with ${label}`, (w) => execute(url(), BookingDocument, { id: id() }, w.customer.token), code],
      [`acceptBooking with ${label}`, (w) => execute(url(), AcceptBookingDocument, { id: id() }, w.owner.token), code],
      [`rejectBooking with ${label}`, (w) => execute(url(), RejectBookingDocument, { id: id(), reason: "x" }, w.owner.token), code],
      [`cancelBooking with ${label}`, (w) => execute(url(), CancelBookingDocument, { id: id() }, w.customer.token), code],
      [`createBooking with ${label} slot`, (w) => execute(url(), CreateBookingDocument, { input: { slotId: id() } }, w.customer.token), code],
      [
        `addAvailability with ${label} provider`,
        (w) => execute(url(), AddAvailabilityDocument, { input: { providerId: id(), startsAt: iso(far()), endsAt: iso(far() + HOUR), slotMinutes: 30 } }, w.owner.token),
        code,
      ],
      [`availableSlots with ${label} provider`, () => execute(url(), AvailableSlotsDocument, { providerId: id(), from: iso(Date.now()), to: iso(far()) }), code],
      [`providerBookings with ${label} provider`, (w) => execute(url(), ProviderBookingsDocument, { providerId: id() }, w.owner.token), code],
    ]),
  );
  test("provider(id) answers null for an unknown id and BAD_USER_INPUT for a malformed one", async () => {
    const unknown = await execute(url(), ProviderDocument, { id: randomUUID() });
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data!.provider).toBeNull();
    expect(errorCode(await execute(url(), ProviderDocument, { id: "abc" }))).toBe("BAD_USER_INPUT");
  });
});

describe("availability windows", () => {
  rejects([
    ["end before start", (w) => window(w, far() + HOUR, far(), 30), "BAD_USER_INPUT"],
    ["end equal to start", (w) => window(w, far(), far(), 30), "BAD_USER_INPUT"],
    ["slotMinutes 0", (w) => window(w, far(), far() + HOUR, 0), "BAD_USER_INPUT"],
    ["negative slotMinutes", (w) => window(w, far(), far() + HOUR, -30), "BAD_USER_INPUT"],
    ["slotMinutes not dividing the window", (w) => window(w, far(), far() + HOUR, 25), "BAD_USER_INPUT"],
    ["a window wholly in the past", (w) => window(w, futureHour(-3).getTime(), futureHour(-2).getTime(), 30), "BAD_USER_INPUT"],
    ["a window starting in the past and ending in the future", (w) => window(w, futureHour(-1).getTime(), futureHour(3).getTime(), 60), "BAD_USER_INPUT"],
    ["startsAt that is not a date-time", (w) => execute(url(), AddAvailabilityDocument, { input: { providerId: w.provider.id, startsAt: "tomorrow", endsAt: iso(far()), slotMinutes: 30 } }, w.owner.token), "BAD_USER_INPUT"],
    ["endsAt on a day that does not exist", (w) => execute(url(), AddAvailabilityDocument, { input: { providerId: w.provider.id, startsAt: iso(far()), endsAt: "2031-02-30T10:00:00Z", slotMinutes: 30 } }, w.owner.token), "BAD_USER_INPUT"],
    // Overlapping part of an existing slot creates none of the window's slots, not even the free ones.
    ["a window overlapping an existing slot", (w) => window(w, Date.parse(w.free[1]!.startsAt) + 30 * 60_000, Date.parse(w.free[1]!.startsAt) + 3 * HOUR, 30), "CONFLICT"],
    ["availableSlots with a malformed from", (w) => execute(url(), AvailableSlotsDocument, { providerId: w.provider.id, from: "yesterday-ish", to: iso(far()) }), "BAD_USER_INPUT"],
    ["availableSlots with to before from", (w) => execute(url(), AvailableSlotsDocument, { providerId: w.provider.id, from: iso(far()), to: iso(Date.now()) }), "BAD_USER_INPUT"],
  ]);
});

describe("providers", () => {
  rejects([
    ["an unknown time zone", (w) => execute(url(), CreateProviderDocument, { input: { name: "Olympus Clinic", timeZone: "Mars/Olympus" } }, w.owner.token), "BAD_USER_INPUT"],
    ["an empty time zone", (w) => execute(url(), CreateProviderDocument, { input: { name: "Nowhere Clinic", timeZone: "" } }, w.owner.token), "BAD_USER_INPUT"],
    ["a blank name", (w) => execute(url(), CreateProviderDocument, { input: { name: "   ", timeZone: "Europe/Berlin" } }, w.owner.token), "BAD_USER_INPUT"],
  ]);
});

describe("pagination arguments", () => {
  const lists: [label: string, call: (w: World, args: { first?: number; after?: string }) => Promise<GqlResult<unknown>>][] = [
    ["providers", (_w, args) => execute(url(), ProvidersDocument, args)],
    ["myBookings", (w, args) => execute(url(), MyBookingsDocument, args, w.customer.token)],
    ["providerBookings", (w, args) => execute(url(), ProviderBookingsDocument, { providerId: w.provider.id, ...args }, w.owner.token)],
  ];
  const forged = Buffer.from(JSON.stringify({ createdAt: "x" })).toString("base64url");
  rejects([
    ...lists.flatMap(([label, call]): Case[] => [
      [`${label} with first: 0`, (w) => call(w, { first: 0 }), "BAD_USER_INPUT"],
      [`${label} with first: -1`, (w) => call(w, { first: -1 }), "BAD_USER_INPUT"],
      [`${label} with first: 1000`, (w) => call(w, { first: 1000 }), "BAD_USER_INPUT"],
      [`${label} with a garbage cursor`, (w) => call(w, { after: "garbage!!" }), "BAD_USER_INPUT"],
      [`${label} with a well-encoded cursor that is not ours`, (w) => call(w, { after: forged }), "BAD_USER_INPUT"],
    ]),
    ["myBookings with an unknown status", (w) => execute(url(), MyBookingsDocument, { status: "BOGUS" as BookingStatus }, w.customer.token), "BAD_USER_INPUT"],
  ]);
});

describe("reasons and idempotency keys", () => {
  const essay = "x".repeat(10_000);
  rejects([
    ["rejectBooking with an over-long reason", (w) => execute(url(), RejectBookingDocument, { id: w.pending.id, reason: essay }, w.owner.token), "BAD_USER_INPUT"],
    ["cancelBooking with an over-long reason", (w) => execute(url(), CancelBookingDocument, { id: w.confirmed.id, reason: essay }, w.customer.token), "BAD_USER_INPUT"],
    ["an empty idempotency key", (w) => execute(url(), CreateBookingDocument, { input: { slotId: w.free[0]!.id, idempotencyKey: "" } }, w.customer.token), "BAD_USER_INPUT"],
    ["a blank idempotency key", (w) => execute(url(), CreateBookingDocument, { input: { slotId: w.free[0]!.id, idempotencyKey: "   " } }, w.customer.token), "BAD_USER_INPUT"],
    ["an over-long idempotency key", (w) => execute(url(), CreateBookingDocument, { input: { slotId: w.free[0]!.id, idempotencyKey: essay } }, w.customer.token), "BAD_USER_INPUT"],
  ]);
});

describe("missing token and wrong role", () => {
  rejects([
    ["createProvider without a token", () => execute(url(), CreateProviderDocument, { input: { name: "Anon", timeZone: "Europe/Berlin" } }), "UNAUTHENTICATED"],
    ["addAvailability without a token", (w) => execute(url(), AddAvailabilityDocument, { input: { providerId: w.provider.id, startsAt: iso(far()), endsAt: iso(far() + HOUR), slotMinutes: 30 } }), "UNAUTHENTICATED"],
    ["createBooking without a token", (w) => execute(url(), CreateBookingDocument, { input: { slotId: w.free[0]!.id } }), "UNAUTHENTICATED"],
    ["acceptBooking without a token", (w) => execute(url(), AcceptBookingDocument, { id: w.pending.id }), "UNAUTHENTICATED"],
    ["rejectBooking without a token", (w) => execute(url(), RejectBookingDocument, { id: w.pending.id }), "UNAUTHENTICATED"],
    ["cancelBooking without a token", (w) => execute(url(), CancelBookingDocument, { id: w.confirmed.id }), "UNAUTHENTICATED"],
    ["booking without a token", (w) => execute(url(), BookingDocument, { id: w.pending.id }), "UNAUTHENTICATED"],
    ["myBookings without a token", () => execute(url(), MyBookingsDocument, {}), "UNAUTHENTICATED"],
    ["providerBookings without a token", (w) => execute(url(), ProviderBookingsDocument, { providerId: w.provider.id }), "UNAUTHENTICATED"],
    ["a PROVIDER booking a slot", (w) => execute(url(), CreateBookingDocument, { input: { slotId: w.free[0]!.id } }, w.owner.token), "FORBIDDEN"],
    ["a CUSTOMER creating a provider", (w) => execute(url(), CreateProviderDocument, { input: { name: "Not mine", timeZone: "Europe/Berlin" } }, w.customer.token), "FORBIDDEN"],
    ["a CUSTOMER adding availability", (w) => execute(url(), AddAvailabilityDocument, { input: { providerId: w.provider.id, startsAt: iso(far()), endsAt: iso(far() + HOUR), slotMinutes: 30 } }, w.customer.token), "FORBIDDEN"],
    ["a CUSTOMER accepting their own booking", (w) => execute(url(), AcceptBookingDocument, { id: w.pending.id }, w.customer.token), "FORBIDDEN"],
  ]);
});

describe("bad bearer tokens on HTTP are UNAUTHENTICATED with status 401", () => {
  const sign = (w: World, secret: string, exp: number, sub = w.customer.id) =>
    new SignJWT({ role: "CUSTOMER" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(sub)
      .setIssuer("slotwise")
      .setAudience("slotwise-api")
      .setIssuedAt(exp - 900)
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret));
  const now = () => Math.floor(Date.now() / 1000);
  const tokens: [label: string, token: (w: World) => Promise<string>][] = [
    ["a garbage token", async () => "garbage"],
    ["a token with a tampered signature", async (w) => `${w.customer.token.slice(0, -4)}AAAA`],
    ["an expired token", (w) => sign(w, TEST_JWT_SECRET, now() - 60)],
    ["a token signed with another secret", (w) => sign(w, "some-other-secret-some-other-secret-0123", now() + 900)],
    // A valid signature alone is not enough: the account must exist (e.g. after a database reset).
    ["a well-signed token of an account that does not exist", (w) => sign(w, TEST_JWT_SECRET, now() + 900, randomUUID())],
  ];
  rejects(
    tokens.flatMap(([label, token]): Case[] => [
      [`createBooking with ${label}`, async (w) => execute(url(), CreateBookingDocument, { input: { slotId: w.free[0]!.id } }, await token(w)), "UNAUTHENTICATED"],
      [`cancelBooking with ${label}`, async (w) => execute(url(), CancelBookingDocument, { id: w.pending.id }, await token(w)), "UNAUTHENTICATED"],
      [`me with ${label}`, async (w) => execute(url(), MeDocument, {}, await token(w)), "UNAUTHENTICATED"],
    ]),
    (result) => expect(result.status).toBe(401),
  );
});

describe("register", () => {
  const attempt = (input: { email?: string; password?: string; name?: string; role?: "ADMIN" | "CUSTOMER" }) => {
    const email = input.email ?? `bad-${randomUUID()}@example.test`;
    const password = input.password ?? "long-enough-password";
    return async () => {
      const result = await execute(url(), RegisterDocument, { input: { email, password, name: input.name ?? "Someone", role: input.role ?? "CUSTOMER" } });
      // Nothing was created: the same credentials do not sign in.
      expect(errorCode(await execute(url(), LoginDocument, { email, password }))).toBe("UNAUTHENTICATED");
      return result;
    };
  };
  rejects([
    ["an invalid email", attempt({ email: "not-an-email" }), "BAD_USER_INPUT"],
    ["a short password", attempt({ password: "short" }), "BAD_USER_INPUT"],
    ["an empty name", attempt({ name: " " }), "BAD_USER_INPUT"],
    ["role ADMIN", attempt({ role: "ADMIN" }), "BAD_USER_INPUT"],
  ]);
});
