import { randomUUID } from "node:crypto";
import { graphql, type GraphQLSchema } from "graphql";
import pino from "pino";
import { loadConfig } from "../../src/config";
import { createCore, type Core } from "../../src/core";
import { ManualClock } from "../../src/domain/clock";
import type { LivePubSub } from "../../src/events/pubsub";
import { buildAppSchema } from "../../src/graphql/build-schema";
import type { GraphQLContext } from "../../src/graphql/context";
import type { Services, Viewer } from "../../src/services";
import { createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";

/**
 * Issue #5, "No N+1": a page of bookings with their slot (and its provider), provider (and its
 * owner), customer and history costs a small, constant number of SQL statements — the same for
 * a page of 5 as for a page of 50. Statements are counted with the database's `onQuery` hook
 * while the real schema executes in process, with loaders made per request as on HTTP.
 */
const MAX_STATEMENTS = 8;
const BOOKING_FIELDS = `
  edges {
    node {
      id status
      slot { id startsAt provider { id } }
      provider { id name owner { id email } }
      customer { id email }
      history { fromStatus toStatus at reason }
    }
  }
  pageInfo { hasNextPage endCursor }`;
const PROVIDER_PAGE = `query ($providerId: ID!, $first: Int) { providerBookings(providerId: $providerId, first: $first) { ${BOOKING_FIELDS} } }`;
const MY_PAGE = `query ($first: Int) { myBookings(first: $first) { ${BOOKING_FIELDS} } }`;

interface Node {
  id: string;
  slot: { id: string; provider: { id: string } };
  provider: { id: string; owner: { id: string; email: string | null } };
  customer: { id: string; email: string | null };
  history: { toStatus: string }[];
}

const BACKENDS = [
  ["PGlite", async () => ({ url: undefined as string | undefined, drop: async () => undefined })],
  ["PostgreSQL", async (): Promise<TestDatabase | null> => ((await requireService("postgres")) ? createPostgresDatabase() : null)],
] as const;

describe.each(BACKENDS)("%s", (_name, create) => {
  let created: { url?: string; drop(): Promise<void> } | null = null;
  let core: Core | undefined;
  let services: Services;
  let pubSub: LivePubSub;
  let schema: GraphQLSchema;
  let recording: string[] | undefined;
  const world = {
    ownerOfFirst: undefined as unknown as Viewer,
    firstProviderId: "",
    customers: [] as Viewer[],
    regular: undefined as unknown as Viewer,
    /** Owner by provider, for the five providers the regular customer booked. */
    owners: new Map<string, string>(),
  };

  beforeAll(async () => {
    created = await create();
    if (!created) return;
    // The core the server runs (in-process pub/sub; no relay, webhook delivery or workers), with every SQL statement reported.
    const config = loadConfig({
      NODE_ENV: "test",
      PGLITE_DIR: "memory://",
      DATABASE_POOL_MAX: "4",
      JWT_SECRET: "n-plus-one-secret-n-plus-one-secret-0123",
      OUTBOX_RELAY: "off",
      WEBHOOK_DELIVERY: "off",
      WORKERS: "off",
      ...(created.url ? { DATABASE_URL: created.url } : {}),
    });
    core = await createCore(config, {
      clock: new ManualClock(new Date("2031-03-10T08:00:00.000Z")),
      log: pino({ level: "silent" }),
      onQuery: (q) => recording?.push(q),
    });
    ({ services, pubSub } = core);
    schema = await buildAppSchema(pubSub);

    const register = async (role: "CUSTOMER" | "PROVIDER"): Promise<Viewer> => {
      const { user } = await services.auth.register({ email: `${role.toLowerCase()}-${randomUUID()}@example.test`, password: "n-plus-one-password", name: role, role });
      return { userId: user.id, role: user.role };
    };
    // Six providers with six owners; each offers 60 half-hour slots.
    const providers: { id: string; owner: Viewer; slots: string[] }[] = [];
    for (let i = 0; i < 6; i++) {
      const owner = await register("PROVIDER");
      const provider = await services.provider.createProvider(owner, { name: `Clinic ${i}`, timeZone: "Europe/Berlin" });
      const startsAt = new Date(Date.parse("2031-03-12T00:00:00.000Z") + i * 86_400_000);
      const slots = await services.provider.addAvailability(owner, { providerId: provider.id, startsAt, endsAt: new Date(startsAt.getTime() + 60 * 30 * 60_000), slotMinutes: 30 });
      providers.push({ id: provider.id, owner, slots: slots.map((s) => s.id) });
      if (i > 0) world.owners.set(provider.id, owner.userId);
    }
    world.ownerOfFirst = providers[0]!.owner;
    world.firstProviderId = providers[0]!.id;
    world.customers = await Promise.all(Array.from({ length: 5 }, () => register("CUSTOMER")));
    world.regular = await register("CUSTOMER");

    // Histories of different lengths: some bookings stay PENDING, some are confirmed, some confirmed then cancelled.
    const bookAndVary = async (customer: Viewer, provider: (typeof providers)[number], slotId: string, i: number) => {
      const { booking } = await services.bookingCreate.createBooking(customer, { slotId });
      if (i % 3 > 0) await services.bookingTransition.acceptBooking(provider.owner, booking.id);
      if (i % 3 > 1) await services.bookingTransition.cancelBooking(customer, booking.id, "changed plans");
    };
    // 50 bookings of the first provider by five different customers...
    for (let i = 0; i < 50; i++) await bookAndVary(world.customers[i % 5]!, providers[0]!, providers[0]!.slots[i]!, i);
    // ...and 50 bookings of one customer spread over the five other providers (and owners).
    for (let i = 0; i < 50; i++) await bookAndVary(world.regular, providers[1 + (i % 5)]!, providers[1 + (i % 5)]!.slots[Math.floor(i / 5)]!, i);
  }, 180_000);

  afterAll(async () => {
    if (!created) return;
    await core?.close();
    await created.drop();
  });

  /** Runs one operation as `viewer` with per-request loaders, as the HTTP layer does (src/http/apollo.ts); returns the nodes and the statements sent. */
  async function run(source: string, viewer: Viewer, variableValues: Record<string, unknown>) {
    const contextValue: GraphQLContext = { viewer, services, pubSub, loaders: services.createLoaders(viewer), requestId: randomUUID(), log: pino({ level: "silent" }) };
    recording = [];
    const result = await graphql({ schema, source, contextValue, variableValues });
    // postgres.js reads pg_catalog's array types once per new pool connection: driver
    // bookkeeping, not statements of this request.
    const statements = recording.filter((q) => !/\bpg_catalog\./.test(q));
    recording = undefined;
    expect(result.errors).toBeUndefined();
    const connection = Object.values(result.data!)[0] as { edges: { node: Node }[] };
    return { nodes: connection.edges.map((e) => e.node), statements };
  }

  test("providerBookings: a page of 50 with slot, provider, owner, customer and history costs as many statements as a page of 5", async () => {
    if (!created) return;
    const small = await run(PROVIDER_PAGE, world.ownerOfFirst, { providerId: world.firstProviderId, first: 5 });
    const large = await run(PROVIDER_PAGE, world.ownerOfFirst, { providerId: world.firstProviderId, first: 50 });
    expect(small.nodes).toHaveLength(5);
    expect(large.nodes).toHaveLength(50);
    // Every relation really was resolved, across five distinct customers.
    expect(new Set(large.nodes.map((n) => n.customer.id))).toEqual(new Set(world.customers.map((c) => c.userId)));
    // The owner shares a booking with each customer: every email is shown, checked in one batch.
    for (const n of large.nodes) expect(n.customer.email).toMatch(/@example\.test$/);
    for (const n of large.nodes) {
      expect(n.provider).toEqual({ id: world.firstProviderId, name: "Clinic 0", owner: expect.objectContaining({ id: world.ownerOfFirst.userId }) });
      expect(n.slot.provider.id).toBe(world.firstProviderId);
      expect(n.history.length).toBeGreaterThanOrEqual(1);
    }
    expect(large.statements.length).toBe(small.statements.length);
    expect(large.statements.length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test("myBookings: a page of 50 over five providers and owners costs as many statements as a page of 5", async () => {
    if (!created) return;
    const small = await run(MY_PAGE, world.regular, { first: 5 });
    const large = await run(MY_PAGE, world.regular, { first: 50 });
    expect(small.nodes).toHaveLength(5);
    expect(large.nodes).toHaveLength(50);
    expect(new Set(large.nodes.map((n) => n.provider.id))).toEqual(new Set(world.owners.keys()));
    for (const n of large.nodes) {
      expect(n.customer.id).toBe(world.regular.userId);
      expect(n.provider.owner.id).toBe(world.owners.get(n.provider.id));
      expect(n.provider.owner.email).toMatch(/@example\.test$/);
      expect(n.slot.provider.id).toBe(n.provider.id);
    }
    expect(new Set(large.nodes.map((n) => n.history.length))).toEqual(new Set([1, 2, 3]));
    expect(large.statements.length).toBe(small.statements.length);
    expect(large.statements.length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });
});
