import { and, eq, inArray, sql } from "drizzle-orm";
import postgres from "postgres";
import { bookingStatusChanges, bookings, outbox, slots } from "../../src/db/schema";
import { bookingEventEnvelopeSchema } from "../../src/events/envelope";
import { CreateBookingDocument, type CreateBookingMutation } from "../generated/graphql";
import { createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { addSlots, createProvider, futureHour, registerUser, type TestUser } from "../support/factories";
import { execute, type GqlResult } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import { mapLimit } from "../support/map-limit";

// PGlite runs one statement at a time and would hide every race below, so this file
// always runs on real PostgreSQL, whatever mode the rest of the suite is in.
let available = false;
let database: TestDatabase | undefined;
let server: TestServer;
let rawSql: postgres.Sql | undefined;
// Registering 50-100 customers means as many argon2 hashes; other suites share the 2 cores.
const HEAVY_TEST_MS = 240_000;

beforeAll(async () => {
  available = await requireService("postgres");
  if (!available) return;
  database = await createPostgresDatabase();
  // A pool larger than the default lets more booking transactions contend at once.
  server = await startTestServer({ databaseUrl: database.url, env: { DATABASE_POOL_MAX: "20" } });
  rawSql = postgres(database.url, { max: 2, onnotice: () => undefined });
});

afterAll(async () => {
  await rawSql?.end({ timeout: 5 });
  await server?.close();
  await database?.drop();
});

function registerCustomers(n: number): Promise<TestUser[]> {
  return mapLimit(Array.from({ length: n }), 8, () => registerUser(server.url, "CUSTOMER"));
}

type Outcome = { kind: "booked"; id: string; slotId: string; status: string; slotStatus: string } | { kind: "conflict" } | { kind: "other"; detail: string };

/** Sorts one createBooking answer into booked, SLOT_UNAVAILABLE conflict, or anything else. */
function classify(r: GqlResult<CreateBookingMutation>): Outcome {
  if (!r.errors?.length && r.data?.createBooking) {
    const b = r.data.createBooking;
    return { kind: "booked", id: b.id, slotId: b.slot.id, status: b.status, slotStatus: b.slot.status };
  }
  const e = r.errors?.length === 1 ? r.errors[0]! : undefined;
  if (e?.extensions?.code === "CONFLICT" && e.extensions.reason === "SLOT_UNAVAILABLE" && !r.data) return { kind: "conflict" };
  return { kind: "other", detail: JSON.stringify(r) };
}

function createBooking(customer: TestUser, slotId: string, idempotencyKey?: string) {
  return execute(server.url, CreateBookingDocument, { input: { slotId, idempotencyKey } }, customer.token);
}

async function newProvider() {
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner, { requiresConfirmation: true });
  return { owner, provider };
}

test("the server under test really runs on PostgreSQL", () => {
  if (!available) return;
  expect(server.database.kind).toBe("postgres");
});

test("100 customers racing for one slot: exactly one booking and 99 SLOT_UNAVAILABLE conflicts", async () => {
  if (!available) return;
  const { owner, provider } = await newProvider();
  const [slot] = await addSlots(server.url, owner, provider.id, { count: 1, start: futureHour(48) });
  const customers = await registerCustomers(100);

  const outcomes = (await Promise.all(customers.map((c) => createBooking(c, slot!.id)))).map(classify);

  expect(outcomes.filter((o) => o.kind === "other")).toEqual([]);
  const winners = outcomes.flatMap((o, i) => (o.kind === "booked" ? [{ ...o, customer: customers[i]! }] : []));
  expect(winners).toHaveLength(1);
  expect(outcomes.filter((o) => o.kind === "conflict")).toHaveLength(99);
  const winner = winners[0]!;
  expect(winner).toMatchObject({ slotId: slot!.id, status: "PENDING", slotStatus: "HELD" });

  const db = server.database.db;
  const rows = await db.select().from(bookings).where(eq(bookings.slotId, slot!.id));
  expect(rows.map((r) => ({ id: r.id, customerId: r.customerId, status: r.status }))).toEqual([
    { id: winner.id, customerId: winner.customer.id, status: "PENDING" },
  ]);
  const history = await db.select().from(bookingStatusChanges).where(eq(bookingStatusChanges.bookingId, winner.id));
  expect(history.map((h) => [h.fromStatus, h.toStatus])).toEqual([[null, "PENDING"]]);

  // Every event about this slot, whichever booking it names: losers must have left none.
  const events = await db.select().from(outbox).where(sql`${outbox.payload}->>'slotId' = ${slot!.id}`);
  expect(events.map((e) => [e.eventType, e.bookingId])).toEqual([["BOOKING_CREATED", winner.id]]);
  const envelope = bookingEventEnvelopeSchema.parse(events[0]!.payload);
  expect(envelope).toMatchObject({ bookingId: winner.id, slotId: slot!.id, userId: winner.customer.id, status: "PENDING", previousStatus: null });

  const [slotRow] = await db.select().from(slots).where(eq(slots.id, slot!.id));
  expect(slotRow!.status).toBe("HELD");
}, HEAVY_TEST_MS);

test("500 concurrent bookings of 500 distinct slots all succeed", async () => {
  if (!available) return;
  const { owner, provider } = await newProvider();
  // Five separate windows of 100 half-hour slots each, days apart.
  const windows = await Promise.all(
    [0, 1, 2, 3, 4].map((w) => addSlots(server.url, owner, provider.id, { count: 100, slotMinutes: 30, start: futureHour(72 + w * 72) })),
  );
  const allSlots = windows.flat();
  expect(new Set(allSlots.map((s) => s.id)).size).toBe(500);
  const customers = await registerCustomers(50);

  // Customer i books slots i, i+50, i+100, ...: 10 each, all requests in flight together.
  const requests = allSlots.map((s, i) => ({ slotId: s.id, customer: customers[i % 50]! }));
  const outcomes = (await Promise.all(requests.map((r) => createBooking(r.customer, r.slotId)))).map(classify);

  expect(outcomes.filter((o) => o.kind !== "booked")).toEqual([]);
  const booked = outcomes.flatMap((o) => (o.kind === "booked" ? [o] : []));
  expect(booked.map((b) => b.slotId)).toEqual(requests.map((r) => r.slotId));
  const bookingIds = booked.map((b) => b.id);
  expect(new Set(bookingIds).size).toBe(500);

  const db = server.database.db;
  const slotRows = await db.select({ status: slots.status }).from(slots).where(eq(slots.providerId, provider.id));
  expect(slotRows).toHaveLength(500);
  expect(slotRows.filter((s) => s.status !== "HELD")).toEqual([]);
  const bookingRows = await db.select({ id: bookings.id, customerId: bookings.customerId, slotId: bookings.slotId }).from(bookings).where(eq(bookings.providerId, provider.id));
  expect(bookingRows).toHaveLength(500);
  const expectedCustomerBySlot = new Map(requests.map((r) => [r.slotId, r.customer.id]));
  expect(bookingRows.filter((b) => expectedCustomerBySlot.get(b.slotId) !== b.customerId)).toEqual([]);
  const events = await db
    .select({ bookingId: outbox.bookingId })
    .from(outbox)
    .where(and(inArray(outbox.bookingId, bookingIds), eq(outbox.eventType, "BOOKING_CREATED")));
  expect(events).toHaveLength(500);
  expect(new Set(events.map((e) => e.bookingId)).size).toBe(500);
}, HEAVY_TEST_MS);

test("the partial unique index rejects a second active booking of a slot written with raw SQL", async () => {
  if (!available) return;
  const { owner, provider } = await newProvider();
  const [slot] = await addSlots(server.url, owner, provider.id, { count: 1, start: futureHour(30 * 24) });
  const [first, second] = await registerCustomers(2);
  const booked = classify(await createBooking(first!, slot!.id));
  expect(booked.kind).toBe("booked");

  const insertBooking = (status: string) =>
    rawSql!`insert into bookings (slot_id, provider_id, customer_id, status)
            values (${slot!.id}, ${provider.id}, ${second!.id}, ${status}::booking_status)`;
  for (const status of ["PENDING", "CONFIRMED"]) {
    await expect(insertBooking(status)).rejects.toMatchObject({ code: "23505", constraint_name: "bookings_one_active_per_slot" });
  }
  // The index is partial: inactive bookings of the same slot are allowed.
  await expect(insertBooking("CANCELLED")).resolves.toBeDefined();

  const active = await rawSql!`select id from bookings where slot_id = ${slot!.id} and status in ('PENDING', 'CONFIRMED')`;
  expect(active.map((r) => r.id)).toEqual([(booked as { id: string }).id]);
});

test("the exclusion constraint rejects an overlapping slot written with raw SQL", async () => {
  if (!available) return;
  const { owner, provider } = await newProvider();
  const start = futureHour(31 * 24);
  await addSlots(server.url, owner, provider.id, { count: 2, slotMinutes: 30, start });
  const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000);
  const insertSlot = (providerId: string, from: Date, to: Date) =>
    rawSql!`insert into slots (provider_id, starts_at, ends_at) values (${providerId}, ${from}, ${to})`;

  await expect(insertSlot(provider.id, at(15), at(45))).rejects.toMatchObject({ code: "23P01", constraint_name: "slots_no_overlap" });
  await expect(insertSlot(provider.id, at(0), at(30))).rejects.toMatchObject({ code: "23P01", constraint_name: "slots_no_overlap" });
  // Half-open ranges: a slot starting exactly where the last one ends is fine.
  await expect(insertSlot(provider.id, at(60), at(90))).resolves.toBeDefined();
  // The constraint is per provider: another provider may use the same hours.
  const other = await newProvider();
  await expect(insertSlot(other.provider.id, at(15), at(45))).resolves.toBeDefined();

  const [{ count }] = await rawSql!`select count(*)::int as count from slots where provider_id = ${provider.id}`;
  expect(count).toBe(3);
});

test("one idempotency key sent 20 times at once yields one booking, returned to every call", async () => {
  if (!available) return;
  const { owner, provider } = await newProvider();
  const [slot] = await addSlots(server.url, owner, provider.id, { count: 1, start: futureHour(32 * 24) });
  const [customer] = await registerCustomers(1);
  const key = `idem-${slot!.id}`;

  const results = await Promise.all(Array.from({ length: 20 }, () => createBooking(customer!, slot!.id, key)));

  expect(results.filter((r) => r.errors?.length || !r.data)).toEqual([]);
  const ids = new Set(results.map((r) => r.data!.createBooking.id));
  expect(ids.size).toBe(1);
  const [bookingId] = [...ids];

  const db = server.database.db;
  const rows = await db.select().from(bookings).where(eq(bookings.slotId, slot!.id));
  expect(rows.map((r) => ({ id: r.id, customerId: r.customerId, idempotencyKey: r.idempotencyKey }))).toEqual([
    { id: bookingId, customerId: customer!.id, idempotencyKey: key },
  ]);
  const events = await db.select().from(outbox).where(sql`${outbox.payload}->>'slotId' = ${slot!.id}`);
  expect(events.map((e) => [e.eventType, e.bookingId])).toEqual([["BOOKING_CREATED", bookingId]]);
});
