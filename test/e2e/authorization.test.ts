import { randomUUID } from "node:crypto";
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
} from "../generated/graphql";
import { addSlots, bookSlot, createProvider, futureHour, registerUser, type TestUser } from "../support/factories";
import { errorCode, execute, executeOk, type GqlResult } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * The authorisation matrix of issue #2, "Who may do what": every query and mutation of
 * the contract, called by each kind of caller. A cell is either "ok" or the exact
 * `extensions.code`; every denied call is followed by a check that nothing changed.
 */
const ROLES = ["anonymous", "customer", "otherCustomer", "owner", "otherProvider", "admin"] as const;
type Caller = (typeof ROLES)[number];
type Outcome = "ok" | "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_USER_INPUT";

const ADMIN = { email: "admin-authz@example.test", password: "admin-password-authz" };
let server: TestServer;
let admin: { id: string; token: string };
beforeAll(async () => {
  server = await startTestServer({ env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
  const login = (await executeOk(server.url, LoginDocument, ADMIN)).login;
  admin = { id: login.user.id, token: login.accessToken };
});
afterAll(async () => {
  await server.close();
});

/**
 * The cast of one operation's matrix: "customer" is the customer of the bookings the cells
 * create, "owner" owns `provider`, and "otherProvider" owns a provider of its own.
 */
interface World {
  users: Record<Exclude<Caller, "anonymous">, { id: string; token: string }>;
  customer: TestUser;
  owner: TestUser;
  provider: { id: string };
  /** The start of an hour that no other cell of this world uses. */
  nextHour(): Date;
  /** A fresh free slot of `provider`, in an hour nobody else uses. */
  freshSlot(): Promise<{ id: string; startsAt: string }>;
  /** A fresh PENDING booking of `customer` on `provider`. */
  freshBooking(): Promise<{ id: string; slot: { id: string } }>;
  bookingAsOwner(id: string): Promise<{ status: string; history: unknown[]; slot: { status: string } }>;
}

async function makeWorld(): Promise<World> {
  const [customer, otherCustomer, owner, otherProvider] = await Promise.all([
    registerUser(server.url, "CUSTOMER"),
    registerUser(server.url, "CUSTOMER"),
    registerUser(server.url, "PROVIDER"),
    registerUser(server.url, "PROVIDER"),
  ]);
  const provider = await createProvider(server.url, owner);
  await createProvider(server.url, otherProvider);
  let hour = 24;
  const nextHour = () => futureHour(hour++);
  const freshSlot = async () => (await addSlots(server.url, owner, provider.id, { start: nextHour(), count: 1, slotMinutes: 60 }))[0]!;
  return {
    nextHour,
    users: { customer, otherCustomer, owner, otherProvider, admin },
    customer,
    owner,
    provider,
    freshSlot,
    freshBooking: async () => bookSlot(server.url, customer, (await freshSlot()).id),
    bookingAsOwner: async (id) => (await executeOk(server.url, BookingDocument, { id }, owner.token)).booking!,
  };
}

async function isAvailable(w: World, slot: { id: string; startsAt: string }): Promise<boolean> {
  const from = new Date(slot.startsAt);
  const data = await executeOk(server.url, AvailableSlotsDocument, { providerId: w.provider.id, from: from.toISOString(), to: new Date(from.getTime() + 60_000).toISOString() });
  return data.availableSlots.some((s) => s.id === slot.id);
}

/** One row of the matrix: who gets what, the call, and what must (not) have happened. */
interface Row {
  op: string;
  expected: Record<Caller, Outcome>;
  run(w: World, caller: Caller, token: string | undefined): Promise<{ result: GqlResult<unknown>; verify(allowed: boolean): Promise<void> }>;
}

const everyone = (o: Outcome): Record<Caller, Outcome> => Object.fromEntries(ROLES.map((r) => [r, o])) as Record<Caller, Outcome>;
const signedIn = { ...everyone("ok"), anonymous: "UNAUTHENTICATED" } as const;
const managers = { anonymous: "UNAUTHENTICATED", customer: "FORBIDDEN", otherCustomer: "FORBIDDEN", owner: "ok", otherProvider: "FORBIDDEN", admin: "ok" } as const;
const deciders = { anonymous: "UNAUTHENTICATED", customer: "FORBIDDEN", otherCustomer: "NOT_FOUND", owner: "ok", otherProvider: "NOT_FOUND", admin: "ok" } as const;
const involved = { anonymous: "UNAUTHENTICATED", customer: "ok", otherCustomer: "NOT_FOUND", owner: "ok", otherProvider: "NOT_FOUND", admin: "ok" } as const;

const ROWS: Row[] = [
  {
    op: "query me",
    expected: everyone("ok"),
    run: async (w, caller, token) => {
      const result = await execute(server.url, MeDocument, {}, token);
      return { result, verify: async () => expect(result.data!.me?.id ?? null).toBe(caller === "anonymous" ? null : w.users[caller].id) };
    },
  },
  {
    op: "query providers (public)",
    expected: everyone("ok"),
    run: async (w, _c, token) => {
      const result = await execute(server.url, ProvidersDocument, { first: 100 }, token);
      return { result, verify: async () => expect(result.data!.providers.edges.map((e) => e.node.id)).toContain(w.provider.id) };
    },
  },
  {
    op: "query provider (public)",
    expected: everyone("ok"),
    run: async (w, _c, token) => {
      const result = await execute(server.url, ProviderDocument, { id: w.provider.id }, token);
      return { result, verify: async () => expect(result.data!.provider).toMatchObject({ id: w.provider.id, owner: { id: w.owner.id } }) };
    },
  },
  {
    op: "query availableSlots (public)",
    expected: everyone("ok"),
    run: async (w, _c, token) => {
      const slot = await w.freshSlot();
      const from = new Date(slot.startsAt);
      const result = await execute(server.url, AvailableSlotsDocument, { providerId: w.provider.id, from: from.toISOString(), to: new Date(from.getTime() + 60_000).toISOString() }, token);
      return { result, verify: async () => expect(result.data!.availableSlots.map((s) => s.id)).toEqual([slot.id]) };
    },
  },
  {
    op: "query booking",
    expected: involved,
    run: async (w, _c, token) => {
      const booking = await w.freshBooking();
      const result = await execute(server.url, BookingDocument, { id: booking.id }, token);
      return { result, verify: async (allowed) => expect(result.data?.booking?.id ?? null).toBe(allowed ? booking.id : null) };
    },
  },
  {
    op: "query myBookings",
    expected: signedIn,
    run: async (w, caller, token) => {
      const booking = await w.freshBooking();
      const result = await execute(server.url, MyBookingsDocument, { first: 100 }, token);
      return {
        result,
        verify: async (allowed) => {
          if (!allowed) return expect(result.data?.myBookings ?? null).toBeNull();
          const ids = result.data!.myBookings.edges.map((e) => e.node.id);
          // Only the booking's customer finds it among "my" bookings.
          expect(ids.includes(booking.id)).toBe(caller === "customer");
        },
      };
    },
  },
  {
    op: "query providerBookings",
    expected: managers,
    run: async (w, _c, token) => {
      const booking = await w.freshBooking();
      const result = await execute(server.url, ProviderBookingsDocument, { providerId: w.provider.id, first: 100 }, token);
      return {
        result,
        verify: async (allowed) =>
          allowed ? expect(result.data!.providerBookings.edges.map((e) => e.node.id)).toContain(booking.id) : expect(result.data?.providerBookings ?? null).toBeNull(),
      };
    },
  },
  {
    op: "mutation register with role ADMIN",
    expected: everyone("BAD_USER_INPUT"),
    run: async (_w, _c, token) => {
      const email = `would-be-admin-${randomUUID()}@example.test`;
      const result = await execute(server.url, RegisterDocument, { input: { email, password: "password-1234", name: "Mallory", role: "ADMIN" } }, token);
      return { result, verify: async () => expect(errorCode(await execute(server.url, LoginDocument, { email, password: "password-1234" }))).toBe("UNAUTHENTICATED") };
    },
  },
  {
    op: "mutation login (public)",
    expected: everyone("ok"),
    run: async (w, _c, token) => {
      const result = await execute(server.url, LoginDocument, { email: w.customer.email, password: w.customer.password }, token);
      return { result, verify: async () => expect(result.data!.login.user.id).toBe(w.customer.id) };
    },
  },
  {
    op: "mutation createProvider",
    expected: { anonymous: "UNAUTHENTICATED", customer: "FORBIDDEN", otherCustomer: "FORBIDDEN", owner: "ok", otherProvider: "ok", admin: "ok" },
    run: async (w, caller, token) => {
      const name = `Authz ${randomUUID()}`;
      const result = await execute(server.url, CreateProviderDocument, { input: { name, timeZone: "Europe/Paris" } }, token);
      return {
        result,
        verify: async (allowed) => {
          if (allowed) expect(result.data!.createProvider.owner.id).toBe(w.users[caller as Exclude<Caller, "anonymous">].id);
          const page = (await executeOk(server.url, ProvidersDocument, { first: 100 })).providers;
          expect(page.pageInfo.hasNextPage).toBe(false);
          expect(page.edges.some((e) => e.node.name === name)).toBe(allowed);
        },
      };
    },
  },
  {
    op: "mutation addAvailability to the owner's provider",
    expected: managers,
    run: async (w, _c, token) => {
      const start = w.nextHour();
      const end = new Date(start.getTime() + 3_600_000);
      const result = await execute(server.url, AddAvailabilityDocument, { input: { providerId: w.provider.id, startsAt: start.toISOString(), endsAt: end.toISOString(), slotMinutes: 30 } }, token);
      return {
        result,
        verify: async (allowed) => {
          const listed = await executeOk(server.url, AvailableSlotsDocument, { providerId: w.provider.id, from: start.toISOString(), to: end.toISOString() });
          expect(listed.availableSlots).toHaveLength(allowed ? 2 : 0);
        },
      };
    },
  },
  {
    op: "mutation createBooking",
    expected: { anonymous: "UNAUTHENTICATED", customer: "ok", otherCustomer: "ok", owner: "FORBIDDEN", otherProvider: "FORBIDDEN", admin: "FORBIDDEN" },
    run: async (w, caller, token) => {
      const slot = await w.freshSlot();
      const result = await execute(server.url, CreateBookingDocument, { input: { slotId: slot.id } }, token);
      return {
        result,
        verify: async (allowed) => {
          if (allowed) expect(result.data!.createBooking.customer.id).toBe(w.users[caller as Exclude<Caller, "anonymous">].id);
          expect(await isAvailable(w, slot)).toBe(!allowed);
          const forProvider = await executeOk(server.url, ProviderBookingsDocument, { providerId: w.provider.id, first: 100 }, w.owner.token);
          expect(forProvider.providerBookings.edges.filter((e) => e.node.slot.id === slot.id)).toHaveLength(allowed ? 1 : 0);
        },
      };
    },
  },
  ...(
    [
      ["acceptBooking", deciders, "CONFIRMED", "BOOKED", (id: string, t?: string) => execute(server.url, AcceptBookingDocument, { id }, t)],
      ["rejectBooking", deciders, "REJECTED", "AVAILABLE", (id: string, t?: string) => execute(server.url, RejectBookingDocument, { id, reason: "authz" }, t)],
      ["cancelBooking", involved, "CANCELLED", "AVAILABLE", (id: string, t?: string) => execute(server.url, CancelBookingDocument, { id, reason: "authz" }, t)],
    ] as const
  ).map(
    ([op, expected, status, slotStatus, act]): Row => ({
      op: `mutation ${op}`,
      expected,
      run: async (w, _c, token) => {
        const booking = await w.freshBooking();
        const result: GqlResult<unknown> = await act(booking.id, token);
        return {
          result,
          verify: async (allowed) => {
            const after = await w.bookingAsOwner(booking.id);
            if (allowed) return expect(after).toMatchObject({ status, slot: { status: slotStatus } });
            expect(after).toMatchObject({ status: "PENDING", slot: { status: "HELD" } });
            expect(after.history).toHaveLength(1);
          },
        };
      },
    }),
  ),
];

describe.each(ROWS.map((r) => [r.op, r] as const))("%s", (_op, row) => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld();
  });

  test.each(ROLES.map((caller) => [caller, row.expected[caller]] as const))("%s -> %s", async (caller, outcome) => {
    const token = caller === "anonymous" ? undefined : w.users[caller].token;
    const { result, verify } = await row.run(w, caller, token);
    if (outcome === "ok") {
      expect(result.errors).toBeUndefined();
    } else {
      expect(errorCode(result)).toBe(outcome);
      expect(result.errors).toHaveLength(1);
    }
    await verify(outcome === "ok");
  });
});
