import postgres from "postgres";
import { GraphQLHttp, errorCode } from "./graphql-http";
import type { ContentionResult } from "./result";
import { distribution, withDeadline } from "./stats";
import { hourFromNow, seedProvider, seedUsers, type BenchWorld } from "./world";

const CREATE_BOOKING = "mutation Book($input: CreateBookingInput!) { createBooking(input: $input) { id status } }";

/**
 * Scenario 2. `calls` customers ask for the same slot at once over HTTP. Every connection is
 * opened first (an untimed `{ __typename }` on each), so the figure is the booking race, not
 * TCP accept. Exactly one call may win; every other must be answered with CONFLICT.
 */
export async function runContention(world: BenchWorld, serverUrl: string, databaseUrl: string, opts: { calls: number; deadlineMs: number }): Promise<ContentionResult> {
  const customers = await seedUsers(world, "CUSTOMER", opts.calls);
  const [owner] = await seedUsers(world, "PROVIDER", 1);
  const provider = await seedProvider(world, owner!, { slotCount: 1, slotMinutes: 30, startsAt: hourFromNow(48), name: "Contention" });
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
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
    let bookingsInDatabase: number;
    try {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from bookings where slot_id = ${slotId} and status in ('PENDING', 'CONFIRMED')`;
      bookingsInDatabase = row!.n;
    } finally {
      await sql.end();
    }
    const otherErrors = replies.length - winners.length - conflicts.length;
    return {
      calls: opts.calls,
      bookingsInDatabase,
      winners: winners.length,
      conflicts: conflicts.length,
      otherErrors,
      seconds: Math.round(seconds * 1000) / 1000,
      winnerLatencyMs: Math.round((winners[0]?.roundTripMs ?? Number.NaN) * 10) / 10,
      loserLatency: distribution(conflicts.map((r) => r.roundTripMs)),
      verified: bookingsInDatabase === 1 && winners.length === 1 && conflicts.length === opts.calls - 1 && otherErrors === 0,
    };
  } finally {
    client.close();
  }
}
