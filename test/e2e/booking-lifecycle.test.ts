import type { Clock } from "../../src/domain/clock";
import {
  AcceptBookingDocument,
  AvailableSlotsDocument,
  BookingDocument,
  CancelBookingDocument,
  CreateBookingDocument,
  LoginDocument,
  MeDocument,
  MyBookingsDocument,
  ProviderBookingsDocument,
  ProvidersDocument,
  RegisterDocument,
  RejectBookingDocument,
  type BookingStatus,
} from "../generated/graphql";
import { addSlots, bookSlot, createProvider, futureHour, registerUser, type TestUser } from "../support/factories";
import { errorCode, execute, executeOk } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/** Real time plus an offset the past-slot test moves forward (tokens and holds follow it). */
class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

const HOUR = 3_600_000;
const MINUTE = 60_000;
const clock = new ShiftedClock();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(async () => {
  await server.close();
});

const available = async (providerId: string, from: Date, to: Date) =>
  (await executeOk(server.url, AvailableSlotsDocument, { providerId, from: from.toISOString(), to: to.toISOString() })).availableSlots;
const availableIds = async (providerId: string, from: Date, to: Date) => (await available(providerId, from, to)).map((s) => s.id);
const readBooking = async (user: TestUser, id: string) => (await executeOk(server.url, BookingDocument, { id }, user.token)).booking!;

test("availableSlots lists only AVAILABLE slots of the provider starting in [from, to), soonest first", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner);
  const otherOwner = await registerUser(server.url, "PROVIDER");
  const other = await createProvider(server.url, otherOwner);
  const start = futureHour(48);
  // The later window is added first so that insertion order differs from start order.
  const late = await addSlots(server.url, owner, provider.id, { start, count: 4, slotMinutes: 30 });
  const early = await addSlots(server.url, owner, provider.id, { start: new Date(start.getTime() - 3 * HOUR), count: 2, slotMinutes: 30 });
  await addSlots(server.url, otherOwner, other.id, { start, count: 4, slotMinutes: 30 });

  const all = await available(provider.id, new Date(start.getTime() - 3 * HOUR), new Date(start.getTime() + 2 * HOUR));
  expect(all.map((s) => s.id)).toEqual([...early, ...late].map((s) => s.id));
  expect(all.every((s) => s.status === "AVAILABLE" && s.provider.id === provider.id)).toBe(true);
  const starts = all.map((s) => Date.parse(s.startsAt));
  expect(starts).toEqual([...starts].sort((a, b) => a - b));

  // Half-open: a slot starting exactly at `from` is in, one starting exactly at `to` is out.
  expect(await availableIds(provider.id, start, new Date(start.getTime() + HOUR))).toEqual([late[0]!.id, late[1]!.id]);
  // The same instants written with an offset select the same slots; output is always UTC.
  const kolkata = (ms: number) => new Date(ms + 5.5 * HOUR).toISOString().replace("Z", "+05:30");
  const viaOffset = await executeOk(server.url, AvailableSlotsDocument, { providerId: provider.id, from: kolkata(start.getTime()), to: kolkata(start.getTime() + HOUR) });
  expect(viaOffset.availableSlots.map((s) => s.id)).toEqual([late[0]!.id, late[1]!.id]);
  expect(all.every((s) => s.startsAt === new Date(s.startsAt).toISOString() && s.endsAt === new Date(s.endsAt).toISOString())).toBe(true);

  const customer = await registerUser(server.url, "CUSTOMER");
  const window = [start, new Date(start.getTime() + 2 * HOUR)] as const;
  const held = await bookSlot(server.url, customer, late[1]!.id);
  expect(await availableIds(provider.id, ...window)).toEqual([late[0]!.id, late[2]!.id, late[3]!.id]);
  await executeOk(server.url, AcceptBookingDocument, { id: held.id }, owner.token);
  expect(await availableIds(provider.id, ...window)).toEqual([late[0]!.id, late[2]!.id, late[3]!.id]);
  await executeOk(server.url, CancelBookingDocument, { id: held.id, reason: "plans changed" }, customer.token);
  expect(await availableIds(provider.id, ...window)).toEqual(late.map((s) => s.id));

  const rejected = await bookSlot(server.url, customer, late[3]!.id);
  expect(await availableIds(provider.id, ...window)).toEqual([late[0]!.id, late[1]!.id, late[2]!.id]);
  await executeOk(server.url, RejectBookingDocument, { id: rejected.id, reason: "closed that day" }, owner.token);
  expect(await availableIds(provider.id, ...window)).toEqual(late.map((s) => s.id));
});

test("a booking is PENDING with a 15 minute hold, then CONFIRMED, then CANCELLED, and its history records every step", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const customer = await registerUser(server.url, "CUSTOMER");
  const provider = await createProvider(server.url, owner);
  const [slot] = await addSlots(server.url, owner, provider.id, { count: 1, slotMinutes: 60 });

  const before = clock.now().getTime();
  const created = await bookSlot(server.url, customer, slot!.id);
  const after = clock.now().getTime();
  expect(created).toMatchObject({ status: "PENDING", reason: null, slot: { id: slot!.id, status: "HELD" }, provider: { id: provider.id }, customer: { id: customer.id } });
  const createdAt = Date.parse(created.createdAt);
  expect(createdAt).toBeGreaterThanOrEqual(before);
  expect(createdAt).toBeLessThanOrEqual(after);
  expect(Date.parse(created.holdExpiresAt!) - createdAt).toBe(15 * MINUTE);
  expect(created.history).toEqual([{ fromStatus: null, toStatus: "PENDING", at: created.createdAt, reason: null }]);

  const accepted = (await executeOk(server.url, AcceptBookingDocument, { id: created.id }, owner.token)).acceptBooking;
  expect(accepted).toMatchObject({ id: created.id, status: "CONFIRMED", holdExpiresAt: null, slot: { status: "BOOKED" } });
  expect(accepted.history.map((h) => [h.fromStatus, h.toStatus])).toEqual([[null, "PENDING"], ["PENDING", "CONFIRMED"]]);
  expect((await readBooking(customer, created.id)).status).toBe("CONFIRMED");

  const cancelled = (await executeOk(server.url, CancelBookingDocument, { id: created.id, reason: "Can't make it" }, customer.token)).cancelBooking;
  expect(cancelled).toMatchObject({ id: created.id, status: "CANCELLED", reason: "Can't make it", slot: { status: "AVAILABLE" } });
  expect(cancelled.history.map(({ fromStatus, toStatus, reason }) => ({ fromStatus, toStatus, reason }))).toEqual([
    { fromStatus: null, toStatus: "PENDING", reason: null },
    { fromStatus: "PENDING", toStatus: "CONFIRMED", reason: null },
    { fromStatus: "CONFIRMED", toStatus: "CANCELLED", reason: "Can't make it" },
  ]);
  const times = cancelled.history.map((h) => Date.parse(h.at));
  expect(times).toEqual([...times].sort((a, b) => a - b));
  expect(await readBooking(owner, created.id)).toEqual(cancelled);

  const again = await execute(server.url, CancelBookingDocument, { id: created.id, reason: "twice" }, customer.token);
  expect(errorCode(again)).toBe("CONFLICT");
  expect(again.errors![0]!.extensions!.reason).toBe("INVALID_TRANSITION");

  // The released slot can be booked again, by anyone.
  const second = await bookSlot(server.url, await registerUser(server.url, "CUSTOMER"), slot!.id);
  expect(second).toMatchObject({ status: "PENDING", slot: { id: slot!.id, status: "HELD" } });
  expect(second.id).not.toBe(created.id);
});

test("the owner rejects a PENDING booking with a reason; the slot is released and the booking can no longer be accepted", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const customer = await registerUser(server.url, "CUSTOMER");
  const provider = await createProvider(server.url, owner);
  const [slot] = await addSlots(server.url, owner, provider.id, { count: 1, slotMinutes: 45 });
  const created = await bookSlot(server.url, customer, slot!.id);

  const rejected = (await executeOk(server.url, RejectBookingDocument, { id: created.id, reason: "Fully booked" }, owner.token)).rejectBooking;
  expect(rejected).toMatchObject({ status: "REJECTED", reason: "Fully booked", holdExpiresAt: null, slot: { status: "AVAILABLE" } });
  expect(rejected.history.map(({ fromStatus, toStatus, reason }) => ({ fromStatus, toStatus, reason }))).toEqual([
    { fromStatus: null, toStatus: "PENDING", reason: null },
    { fromStatus: "PENDING", toStatus: "REJECTED", reason: "Fully booked" },
  ]);
  const slotStart = new Date(slot!.startsAt);
  expect(await availableIds(provider.id, slotStart, new Date(slotStart.getTime() + HOUR))).toEqual([slot!.id]);

  const accept = await execute(server.url, AcceptBookingDocument, { id: created.id }, owner.token);
  expect(errorCode(accept)).toBe("CONFLICT");
  expect(accept.errors![0]!.extensions!.reason).toBe("INVALID_TRANSITION");
  expect(await readBooking(customer, created.id)).toEqual(rejected);
});

test("a provider with requiresConfirmation: false confirms at once; history shows PENDING then CONFIRMED", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const customer = await registerUser(server.url, "CUSTOMER");
  const provider = await createProvider(server.url, owner, { requiresConfirmation: false });
  expect(provider.requiresConfirmation).toBe(false);
  const [slot] = await addSlots(server.url, owner, provider.id, { count: 1 });

  const created = await bookSlot(server.url, customer, slot!.id);
  expect(created).toMatchObject({ status: "CONFIRMED", holdExpiresAt: null, slot: { status: "BOOKED" } });
  expect(created.history.map((h) => [h.fromStatus, h.toStatus])).toEqual([[null, "PENDING"], ["PENDING", "CONFIRMED"]]);
  const slotStart = new Date(slot!.startsAt);
  expect(await availableIds(provider.id, slotStart, new Date(slotStart.getTime() + HOUR))).toEqual([]);

  const accept = await execute(server.url, AcceptBookingDocument, { id: created.id }, owner.token);
  expect(errorCode(accept)).toBe("CONFLICT");
  expect(accept.errors![0]!.extensions!.reason).toBe("INVALID_TRANSITION");
});

test("replaying an idempotencyKey returns the first booking and books nothing more", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const customer = await registerUser(server.url, "CUSTOMER");
  const provider = await createProvider(server.url, owner);
  const [slotA, slotB] = await addSlots(server.url, owner, provider.id, { count: 2 });

  const first = await bookSlot(server.url, customer, slotA!.id, { idempotencyKey: "key-1" });
  const replay = await bookSlot(server.url, customer, slotA!.id, { idempotencyKey: "key-1" });
  expect(replay.id).toBe(first.id);
  expect(replay.status).toBe("PENDING");
  expect(replay.history).toHaveLength(1);

  // The same key used for another slot is a client bug, not a replay.
  const reused = await execute(server.url, CreateBookingDocument, { input: { slotId: slotB!.id, idempotencyKey: "key-1" } }, customer.token);
  expect(errorCode(reused)).toBe("CONFLICT");
  expect(reused.errors![0]!.extensions!.reason).toBe("IDEMPOTENCY_KEY_REUSED");

  // Without the key, the held slot is simply taken.
  const taken = await execute(server.url, CreateBookingDocument, { input: { slotId: slotA!.id } }, customer.token);
  expect(errorCode(taken)).toBe("CONFLICT");
  expect(taken.errors![0]!.extensions!.reason).toBe("SLOT_UNAVAILABLE");

  // Keys are per customer: another customer's "key-1" is a different request.
  const other = await registerUser(server.url, "CUSTOMER");
  const theirs = await bookSlot(server.url, other, slotB!.id, { idempotencyKey: "key-1" });
  expect(theirs.id).not.toBe(first.id);
  expect(theirs.customer.id).toBe(other.id);

  // A replay after the booking changed still answers with that booking, not a new one.
  await executeOk(server.url, CancelBookingDocument, { id: first.id }, customer.token);
  const late = await bookSlot(server.url, customer, slotA!.id, { idempotencyKey: "key-1" });
  expect(late).toMatchObject({ id: first.id, status: "CANCELLED" });
  const start = new Date(slotA!.startsAt);
  expect(await availableIds(provider.id, start, new Date(start.getTime() + HOUR))).toEqual([slotA!.id]);
});

test("slots that have started are neither listed nor bookable", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner);
  const start = futureHour(2);
  const [past, future] = await addSlots(server.url, owner, provider.id, { start, count: 2, slotMinutes: 60 });
  const from = new Date(start.getTime() - HOUR);
  const to = new Date(start.getTime() + 3 * HOUR);
  expect(await availableIds(provider.id, from, to)).toEqual([past!.id, future!.id]);

  clock.offsetMs = start.getTime() + 30 * MINUTE - Date.now();
  try {
    expect(await availableIds(provider.id, from, to)).toEqual([future!.id]);
    // Tokens issued before the jump have expired on the server's clock, so register afresh.
    const customer = await registerUser(server.url, "CUSTOMER");
    const late = await execute(server.url, CreateBookingDocument, { input: { slotId: past!.id } }, customer.token);
    expect(errorCode(late)).toBe("CONFLICT");
    expect(late.errors![0]!.extensions!.reason).toBe("SLOT_UNAVAILABLE");
    expect((await bookSlot(server.url, customer, future!.id)).status).toBe("PENDING");
  } finally {
    clock.offsetMs = 0;
  }
});

type Connection<T> = { edges: { cursor: string; node: T }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

/** Follows endCursor until hasNextPage is false; returns every node and each page's size. */
async function walk<T extends { id: string }>(page: (after: string | null) => Promise<Connection<T>>) {
  const nodes: T[] = [];
  const sizes: number[] = [];
  let after: string | null = null;
  for (;;) {
    const conn: Connection<T> = await page(after);
    nodes.push(...conn.edges.map((e) => e.node));
    sizes.push(conn.edges.length);
    if (!conn.pageInfo.hasNextPage) return { nodes, sizes };
    expect(conn.pageInfo.endCursor).toBe(conn.edges.at(-1)!.cursor);
    after = conn.pageInfo.endCursor;
  }
}

test("providers: pages of two cover every provider once, oldest first", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const mine: string[] = [];
  for (let i = 0; i < 5; i++) mine.push((await createProvider(server.url, owner, { name: `Pager ${i}` })).id);

  const { nodes, sizes } = await walk(async (after) => (await executeOk(server.url, ProvidersDocument, { first: 2, after })).providers);
  const ids = nodes.map((n) => n.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(sizes.slice(0, -1).every((n) => n === 2)).toBe(true);
  // No gaps: the walk matches one big page (this file has far fewer than 100 providers).
  const whole = (await executeOk(server.url, ProvidersDocument, { first: 100 })).providers;
  expect(whole.pageInfo.hasNextPage).toBe(false);
  expect(ids).toEqual(whole.edges.map((e) => e.node.id));
  expect(ids.filter((id) => mine.includes(id))).toEqual(mine);
});

test("myBookings and providerBookings: pages of two cover every booking once, and the status filter works", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner);
  const otherOwner = await registerUser(server.url, "PROVIDER");
  const otherProvider = await createProvider(server.url, otherOwner);
  const slots = await addSlots(server.url, owner, provider.id, { count: 8 });
  const [elsewhere] = await addSlots(server.url, otherOwner, otherProvider.id, { count: 1 });
  const alice = await registerUser(server.url, "CUSTOMER");
  const bob = await registerUser(server.url, "CUSTOMER");
  const aliceIds: string[] = [];
  for (const s of slots.slice(0, 5)) aliceIds.push((await bookSlot(server.url, alice, s.id)).id);
  const bobIds = [(await bookSlot(server.url, bob, slots[5]!.id)).id, (await bookSlot(server.url, bob, slots[6]!.id)).id];
  const aliceElsewhere = (await bookSlot(server.url, alice, elsewhere!.id)).id;
  await executeOk(server.url, CancelBookingDocument, { id: aliceIds[1]!, reason: "no" }, alice.token);
  await executeOk(server.url, CancelBookingDocument, { id: aliceIds[3]! }, alice.token);
  await executeOk(server.url, AcceptBookingDocument, { id: bobIds[0]! }, owner.token);

  const mine = (status?: BookingStatus) =>
    walk(async (after) => (await executeOk(server.url, MyBookingsDocument, { first: 2, after, status }, alice.token)).myBookings);
  const all = await mine();
  expect(all.sizes).toEqual([2, 2, 2]);
  expect(all.nodes.map((n) => n.id).sort()).toEqual([...aliceIds, aliceElsewhere].sort());
  expect(all.nodes.every((n) => n.customer.id === alice.id)).toBe(true);
  expect((await mine("CANCELLED")).nodes.map((n) => n.id).sort()).toEqual([aliceIds[1]!, aliceIds[3]!].sort());
  expect((await mine("PENDING")).nodes.map((n) => n.id).sort()).toEqual([aliceIds[0]!, aliceIds[2]!, aliceIds[4]!, aliceElsewhere].sort());
  expect((await mine("CONFIRMED")).nodes).toEqual([]);

  const theirs = (status?: BookingStatus) =>
    walk(async (after) => (await executeOk(server.url, ProviderBookingsDocument, { providerId: provider.id, first: 2, after, status }, owner.token)).providerBookings);
  const forProvider = await theirs();
  expect(forProvider.sizes).toEqual([2, 2, 2, 1]);
  expect(forProvider.nodes.map((n) => n.id).sort()).toEqual([...aliceIds, ...bobIds].sort());
  expect(forProvider.nodes.every((n) => n.provider.id === provider.id)).toBe(true);
  expect((await theirs("CONFIRMED")).nodes.map((n) => n.id)).toEqual([bobIds[0]]);
  expect((await theirs("PENDING")).nodes.map((n) => n.id).sort()).toEqual([aliceIds[0]!, aliceIds[2]!, aliceIds[4]!, bobIds[1]!].sort());
});

test("me answers the signed-in user (null when anonymous); login needs the right password, else UNAUTHENTICATED", async () => {
  const customer = await registerUser(server.url, "CUSTOMER", "Carla Customer");
  expect((await executeOk(server.url, MeDocument, {}, customer.token)).me).toEqual({ id: customer.id, email: customer.email, name: "Carla Customer", role: "CUSTOMER" });
  expect((await executeOk(server.url, MeDocument, {})).me).toBeNull();

  const ok = (await executeOk(server.url, LoginDocument, { email: customer.email, password: customer.password })).login;
  expect(ok.user).toMatchObject({ id: customer.id, email: customer.email, role: "CUSTOMER" });
  expect(ok.refreshToken).toEqual(expect.any(String));
  expect((await executeOk(server.url, MeDocument, {}, ok.accessToken)).me!.id).toBe(customer.id);
  const wrong = await execute(server.url, LoginDocument, { email: customer.email, password: `${customer.password}x` });
  expect(errorCode(wrong)).toBe("UNAUTHENTICATED");
  expect(wrong.data).toBeNull();
  const unknown = await execute(server.url, LoginDocument, { email: `nobody-${customer.id}@example.test`, password: customer.password });
  expect(errorCode(unknown)).toBe("UNAUTHENTICATED");
});

test("registering a taken email is a CONFLICT and leaves the first account as it was", async () => {
  const first = await registerUser(server.url, "CUSTOMER");
  const again = await execute(server.url, RegisterDocument, { input: { email: first.email, password: "another-password", name: "Impostor", role: "PROVIDER" } });
  expect(errorCode(again)).toBe("CONFLICT");
  expect(again.errors![0]!.extensions!.reason).toBe("EMAIL_TAKEN");
  expect(errorCode(await execute(server.url, LoginDocument, { email: first.email, password: "another-password" }))).toBe("UNAUTHENTICATED");
  const login = await executeOk(server.url, LoginDocument, { email: first.email, password: first.password });
  expect(login.login.user).toMatchObject({ id: first.id, role: "CUSTOMER" });
});
