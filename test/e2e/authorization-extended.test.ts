import type { Client } from "graphql-ws";
import { channelName, type Topic } from "../../src/events/pubsub";
import {
  AcceptBookingDocument,
  AvailableSlotsDocument,
  BlockSlotDocument,
  BookingDocument,
  BookingStatusChangedDocument,
  LoginDocument,
  LogoutDocument,
  MeDocument,
  OutboxStatusDocument,
  ProviderBookingEventsDocument,
  ProviderScheduleDocument,
  RefreshTokenDocument,
  RescheduleBookingDocument,
  SetScheduleDocument,
  SlotAvailabilityChangedDocument,
  UnblockSlotDocument,
} from "../generated/graphql";
import { addSlots, bookSlot, createProvider, futureHour, registerUser, type TestUser } from "../support/factories";
import { errorCode, execute, executeOk, subscribe, wsClient, type GqlResult, type LiveSubscription } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import { settle } from "../support/wait";

/**
 * The authorisation matrix of issue #5 for the operations test/e2e/authorization.test.ts does
 * not cover: scheduling (part 2), sessions (part 3), the admin-only outbox status, and the three
 * subscriptions over a real graphql-ws client. Same shape: a cell is "ok" or the exact
 * `extensions.code`, and every cell then checks what did (or did not) happen.
 */
const ROLES = ["anonymous", "customer", "otherCustomer", "owner", "otherProvider", "admin"] as const;
type Caller = (typeof ROLES)[number];
type Outcome = "ok" | "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND";

const ADMIN = { email: "admin-authz-extended@example.test", password: "admin-password-authz-ext" };
const ALL_WEEK = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, startTime: "09:00", endTime: "11:00" }));
const DAY = 86_400_000;
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

interface World {
  users: Record<Exclude<Caller, "anonymous">, { id: string; token: string }>;
  customer: TestUser;
  owner: TestUser;
  provider: { id: string };
  /** A new provider of `owner`, with no slots and no schedule. */
  freshProvider(): Promise<{ id: string }>;
  /** A fresh free hour slot of `provider` (or of `providerId`), in an hour no other cell uses. */
  freshSlot(providerId?: string): Promise<{ id: string; startsAt: string }>;
  /** A fresh PENDING booking of `customer` (on `providerId`, default `provider`). */
  freshBooking(providerId?: string): Promise<{ id: string; slot: { id: string } }>;
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
  const freshSlot = async (providerId = provider.id) =>
    (await addSlots(server.url, owner, providerId, { start: futureHour(hour++), count: 1, slotMinutes: 60 }))[0]!;
  return {
    users: { customer, otherCustomer, owner, otherProvider, admin },
    customer,
    owner,
    provider,
    freshProvider: () => createProvider(server.url, owner),
    freshSlot,
    freshBooking: async (providerId) => bookSlot(server.url, customer, (await freshSlot(providerId)).id),
  };
}

const bookingAsOwner = async (w: World, id: string) => (await executeOk(server.url, BookingDocument, { id }, w.owner.token)).booking!;
async function isAvailable(providerId: string, slot: { id: string; startsAt: string }): Promise<boolean> {
  const from = new Date(slot.startsAt);
  const data = await executeOk(server.url, AvailableSlotsDocument, { providerId, from: from.toISOString(), to: new Date(from.getTime() + 60_000).toISOString() });
  return data.availableSlots.some((s) => s.id === slot.id);
}
const upcoming = async (providerId: string) =>
  (await executeOk(server.url, AvailableSlotsDocument, { providerId, from: new Date().toISOString(), to: new Date(Date.now() + 5 * DAY).toISOString() })).availableSlots;

/** A fresh session of the booking's customer: a refresh token nobody has used yet. */
const freshSession = async (w: World) => (await executeOk(server.url, LoginDocument, { email: w.customer.email, password: w.customer.password })).login;

/**
 * Starts a subscription and resolves with its first answer: a refusal, or — once the server
 * really listens on the channel — the first event, which `trigger` causes.
 */
async function firstAnswer<T>(token: string | undefined, start: (c: Client) => LiveSubscription<T>, topic: Topic, id: string, trigger: () => Promise<unknown>) {
  const c = wsClient(server.wsUrl, token);
  clients.push(c);
  const sub = start(c);
  const channel = channelName(topic, id);
  type Engine = { ee?: { listenerCount(c: string): number }; subsRefsMap?: Map<string, Set<number>> };
  const engine = (server.pubSub as unknown as { engine?: Engine }).engine;
  const listeners = () => (engine?.subsRefsMap ? (engine.subsRefsMap.get(channel)?.size ?? 0) : (engine?.ee?.listenerCount(channel) ?? 0));
  for (const deadline = Date.now() + 10_000; sub.results.length === 0 && listeners() === 0; await settle(20)) {
    if (Date.now() > deadline) throw new Error(`subscription on ${channel} neither answered nor started listening`);
  }
  if (sub.results.length === 0) await trigger();
  const [first] = await sub.waitFor(1, 10_000);
  const result: GqlResult<T> = { status: 0, data: first!.data, errors: first!.errors as GqlResult<T>["errors"] };
  return { result, sub };
}

interface Row {
  op: string;
  expected: Record<Caller, Outcome>;
  run(w: World, caller: Caller, token: string | undefined): Promise<{ result: GqlResult<unknown>; verify(allowed: boolean): Promise<void> }>;
}

const everyone = (o: Outcome): Record<Caller, Outcome> => Object.fromEntries(ROLES.map((r) => [r, o])) as Record<Caller, Outcome>;
const managers = { anonymous: "UNAUTHENTICATED", customer: "FORBIDDEN", otherCustomer: "FORBIDDEN", owner: "ok", otherProvider: "FORBIDDEN", admin: "ok" } as const;
const involved = { anonymous: "UNAUTHENTICATED", customer: "ok", otherCustomer: "NOT_FOUND", owner: "ok", otherProvider: "NOT_FOUND", admin: "ok" } as const;
const adminOnly = { anonymous: "UNAUTHENTICATED", customer: "FORBIDDEN", otherCustomer: "FORBIDDEN", owner: "FORBIDDEN", otherProvider: "FORBIDDEN", admin: "ok" } as const;

const ROWS: Row[] = [
  {
    op: "mutation setSchedule on the owner's provider",
    expected: managers,
    run: async (w, _c, token) => {
      const provider = await w.freshProvider();
      const input = { providerId: provider.id, slotMinutes: 60, horizonDays: 3, weekly: ALL_WEEK };
      const result = await execute(server.url, SetScheduleDocument, { input }, token);
      return {
        result,
        verify: async (allowed) => {
          const schedule = (await executeOk(server.url, ProviderScheduleDocument, { id: provider.id })).provider!.schedule;
          if (!allowed) {
            expect(schedule).toBeNull();
            return expect(await upcoming(provider.id)).toHaveLength(0);
          }
          expect(schedule).toMatchObject({ slotMinutes: 60, horizonDays: 3, weekly: ALL_WEEK });
          expect((await upcoming(provider.id)).length).toBeGreaterThan(0);
        },
      };
    },
  },
  {
    op: "query provider.schedule (public)",
    expected: everyone("ok"),
    run: async (w, _c, token) => {
      const provider = await w.freshProvider();
      await executeOk(server.url, SetScheduleDocument, { input: { providerId: provider.id, slotMinutes: 30, horizonDays: 2, weekly: ALL_WEEK } }, w.owner.token);
      const result = await execute(server.url, ProviderScheduleDocument, { id: provider.id }, token);
      return { result, verify: async () => expect(result.data!.provider!.schedule).toMatchObject({ slotMinutes: 30, horizonDays: 2, weekly: ALL_WEEK }) };
    },
  },
  {
    op: "mutation rescheduleBooking",
    expected: involved,
    run: async (w, _c, token) => {
      const booking = await w.freshBooking();
      const target = await w.freshSlot();
      const result = await execute(server.url, RescheduleBookingDocument, { id: booking.id, slotId: target.id }, token);
      return {
        result,
        verify: async (allowed) => {
          const after = await bookingAsOwner(w, booking.id);
          expect(after.slot.id).toBe(allowed ? target.id : booking.slot.id);
          expect(after.status).toBe("PENDING");
          expect(after.history).toHaveLength(allowed ? 2 : 1);
          expect(await isAvailable(w.provider.id, target)).toBe(!allowed);
        },
      };
    },
  },
  ...(
    [
      // [operation, the slot's status before, after]
      ["blockSlot", false, "BLOCKED"],
      ["unblockSlot", true, "AVAILABLE"],
    ] as const
  ).map(
    ([op, blockedBefore, status]): Row => ({
      op: `mutation ${op}`,
      expected: managers,
      run: async (w, _c, token) => {
        const slot = await w.freshSlot();
        if (blockedBefore) await executeOk(server.url, BlockSlotDocument, { id: slot.id }, w.owner.token);
        const result: GqlResult<unknown> = await execute(server.url, (op === "blockSlot" ? BlockSlotDocument : UnblockSlotDocument) as typeof BlockSlotDocument, { id: slot.id }, token);
        return {
          result,
          verify: async (allowed) => {
            if (allowed) expect(result.data).toMatchObject({ [op]: { id: slot.id, status } });
            // On sale exactly when it ends up AVAILABLE.
            expect(await isAvailable(w.provider.id, slot)).toBe(allowed === (status === "AVAILABLE"));
          },
        };
      },
    }),
  ),
  {
    op: "query outboxStatus (ADMIN only)",
    expected: adminOnly,
    run: async (w, _c, token) => {
      await w.freshBooking();
      const result = await execute(server.url, OutboxStatusDocument, {}, token);
      return {
        result,
        verify: async (allowed) => {
          if (!allowed) return expect(result.data ?? null).toBeNull();
          // This server runs no relay, so the booking's event is still waiting.
          expect(result.data!.outboxStatus).toMatchObject({ relayRunning: false, sentByThisInstance: 0 });
          expect(result.data!.outboxStatus.pending).toBeGreaterThanOrEqual(1);
        },
      };
    },
  },
  ...(["refreshToken", "logout"] as const).map(
    (op): Row => ({
      // The refresh token is the credential: the caller's bearer token neither helps nor hurts.
      op: `mutation ${op} with the customer's refresh token (public)`,
      expected: everyone("ok"),
      run: async (w, caller, token) => {
        const session = await freshSession(w);
        const vars = { refreshToken: session.refreshToken };
        const result: GqlResult<unknown> = op === "refreshToken" ? await execute(server.url, RefreshTokenDocument, vars, token) : await execute(server.url, LogoutDocument, vars, token);
        return {
          result,
          verify: async () => {
            if (op === "refreshToken") {
              const pair = (result.data as { refreshToken: { accessToken: string; user: { id: string } } }).refreshToken;
              expect(pair.user.id).toBe(w.customer.id);
              expect((await executeOk(server.url, MeDocument, {}, pair.accessToken)).me!.id).toBe(w.customer.id);
            } else {
              expect(result.data).toEqual({ logout: true });
              expect(errorCode(await execute(server.url, MeDocument, {}, session.accessToken))).toBe("UNAUTHENTICATED");
            }
            // Only that session changed: the caller's own still works.
            if (caller !== "anonymous") expect((await executeOk(server.url, MeDocument, {}, token)).me!.id).toBe(w.users[caller].id);
          },
        };
      },
    }),
  ),
  ...(
    [
      // [operation, who may listen, topic, what the cell subscribes to, the change that must (not) be heard, what arrives]
      [
        "bookingStatusChanged",
        involved,
        "BOOKING_EVENTS",
        async (w: World) => {
          const booking = await w.freshBooking();
          return {
            id: booking.id,
            start: (c: Client) => subscribe(c, BookingStatusChangedDocument, { bookingId: booking.id }),
            change: () => executeOk(server.url, AcceptBookingDocument, { id: booking.id }, w.owner.token),
            heard: { bookingStatusChanged: { eventType: "BOOKING_CONFIRMED", booking: { id: booking.id, status: "CONFIRMED" } } },
          };
        },
      ],
      [
        "providerBookingEvents",
        managers,
        "PROVIDER_BOOKING_EVENTS",
        async (w: World) => {
          const provider = await w.freshProvider();
          const slot = await w.freshSlot(provider.id);
          return {
            id: provider.id,
            start: (c: Client) => subscribe(c, ProviderBookingEventsDocument, { providerId: provider.id }),
            change: () => bookSlot(server.url, w.customer, slot.id),
            heard: { providerBookingEvents: { eventType: "BOOKING_CREATED", booking: { status: "PENDING", slot: { id: slot.id } } } },
          };
        },
      ],
      [
        "slotAvailabilityChanged (public)",
        everyone("ok"),
        "SLOT_EVENTS",
        async (w: World) => {
          const provider = await w.freshProvider();
          let added: { id: string } | undefined;
          return {
            id: provider.id,
            start: (c: Client) => subscribe(c, SlotAvailabilityChangedDocument, { providerId: provider.id }),
            change: async () => (added = await w.freshSlot(provider.id)),
            get heard() {
              return { slotAvailabilityChanged: { slot: { id: added?.id, status: "AVAILABLE" } } };
            },
          };
        },
      ],
    ] as const
  ).map(
    ([op, expected, topic, setup]): Row => ({
      op: `subscription ${op}`,
      expected,
      run: async (w, _c, token) => {
        const cell = await setup(w);
        const { result, sub } = await firstAnswer(token, cell.start as (c: Client) => LiveSubscription<unknown>, topic, cell.id, cell.change);
        return {
          result,
          verify: async (allowed) => {
            if (allowed) return expect(result.data).toMatchObject(cell.heard);
            // Refused: the subscription is over, and the change that follows is not heard.
            await sub.ended;
            await cell.change();
            await settle(300);
            expect(sub.results).toHaveLength(1);
            expect(result.data ?? null).toBeNull();
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
