import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { ConflictError } from "../../src/domain/errors";
import { GraphQLHttp, errorCode } from "./graphql-http";
import type { ContentionResult } from "./result";
import { distribution, withDeadline } from "./stats";
import { hourFromNow, seedProvider, seedUsers, type BenchUser, type BenchWorld } from "./world";

const CREATE_BOOKING = "mutation Book($input: CreateBookingInput!) { createBooking(input: $input) { id status } }";

/**
 * Scenario 2. `calls` customers ask for the same slot at once over HTTP. Every connection is
 * opened first (an untimed `{ __typename }` on each), so the figure is the booking race, not
 * TCP accept. Exactly one call may win; every other must be answered with CONFLICT.
 */
export async function runContention(world: BenchWorld, serverUrl: string, databaseUrl: string, opts: { calls: number; deadlineMs: number }): Promise<ContentionResult> {
  const customers = await seedUsers(world, "CUSTOMER", opts.calls);
  const [owner] = await seedUsers(world, "PROVIDER", 1);
  // Slot 0 for HTTP, slot 1 for the service-layer baseline.
  const provider = await seedProvider(world, owner!, { slotCount: 2, slotMinutes: 30, startsAt: hourFromNow(48), name: "Contention" });
  const slotId = provider.slots[0]!.id;
  const client = new GraphQLHttp(serverUrl, opts.calls);
  try {
    await withDeadline("contention warm-up", opts.deadlineMs, Promise.all(customers.map((c) => client.post("query { __typename }", {}, c.token))));
    const started = performance.now();
    const replies = await withDeadline(
      "contention",
      opts.deadlineMs,
      Promise.all(
        customers.map((c, i) =>
          client.post<{ createBooking: { id: string } }>(CREATE_BOOKING, { input: { slotId, idempotencyKey: `contention-${i}` } }, c.token).catch((err: Error) => ({ status: 0, errors: [{ message: err.message }], roundTripMs: Number.NaN, data: null })),
        ),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const winners = replies.filter((r) => !r.errors && r.data?.createBooking.id);
    const conflicts = replies.filter((r) => errorCode(r) === "CONFLICT");
    const bookingsInDatabase = await activeBookings(databaseUrl, slotId);
    const otherErrors = replies.length - winners.length - conflicts.length;
    const service = await raceThroughService(world, customers, provider.slots[1]!.id, opts.deadlineMs);
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const loserLatency = distribution(conflicts.map((r) => r.roundTripMs));
    return {
      calls: opts.calls,
      bookingsInDatabase,
      winners: winners.length,
      conflicts: conflicts.length,
      otherErrors,
      seconds: Math.round(seconds * 1000) / 1000,
      winnerLatencyMs: Math.round((winners[0]?.roundTripMs ?? Number.NaN) * 10) / 10,
      loserLatency,
      service,
      ratioLoserP50: ratio(loserLatency.p50Ms, service.loserLatency.p50Ms),
      ratioLoserP99: ratio(loserLatency.p99Ms, service.loserLatency.p99Ms),
      verified:
        bookingsInDatabase === 1 &&
        winners.length === 1 &&
        conflicts.length === opts.calls - 1 &&
        otherErrors === 0 &&
        service.winners === 1 &&
        (await activeBookings(databaseUrl, provider.slots[1]!.id)) === 1 &&
        service.conflicts === opts.calls - 1 &&
        service.otherErrors === 0,
    };
  } finally {
    client.close();
  }
}

/** The same race through BookingCreateService in this process: no HTTP, GraphQL or per-request auth. */
async function raceThroughService(world: BenchWorld, customers: readonly BenchUser[], slotId: string, deadlineMs: number): Promise<NonNullable<ContentionResult["service"]>> {
  const started = performance.now();
  const outcomes = await withDeadline(
    "contention (service layer)",
    deadlineMs,
    Promise.all(
      customers.map(async (c, i) => {
        const t0 = performance.now();
        try {
          await world.services.bookingCreate.createBooking(c, { slotId, idempotencyKey: `contention-service-${i}` });
          return { outcome: "won" as const, ms: performance.now() - t0 };
        } catch (err) {
          return { outcome: err instanceof ConflictError ? ("conflict" as const) : ("other" as const), ms: performance.now() - t0 };
        }
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const losers = outcomes.filter((o) => o.outcome === "conflict");
  return {
    calls: customers.length,
    winners: outcomes.filter((o) => o.outcome === "won").length,
    conflicts: losers.length,
    otherErrors: outcomes.filter((o) => o.outcome === "other").length,
    seconds: Math.round(seconds * 1000) / 1000,
    loserLatency: distribution(losers.map((o) => o.ms)),
  };
}

/** PENDING or CONFIRMED bookings of one slot, read straight from PostgreSQL. */
async function activeBookings(databaseUrl: string, slotId: string): Promise<number> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from bookings where slot_id = ${slotId} and status in ('PENDING', 'CONFIRMED')`;
    return row!.n;
  } finally {
    await sql.end();
  }
}
