import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { GraphQLHttp } from "./graphql-http";
import type { SlotQueryResult } from "./result";
import { distribution, runLimited } from "./stats";
import { hourFromNow, seedUsers, type BenchWorld } from "./world";

export interface SlotQueryOptions {
  /** Slots the provider has in all (10,000 in the full run). */
  providerSlots: number;
  /** Share of the slots booked before measuring, 0..1. */
  bookedShare: number;
  samples: number;
  windowDays: number;
}

// The largest page availableSlots returns (MAX_SLOT_PAGE_SIZE); the bare SQL takes the same limit.
const PAGE = 1_000;
const AVAILABLE_SLOTS = `query Slots($p: ID!, $from: DateTimeISO!, $to: DateTimeISO!) { availableSlots(providerId: $p, from: $from, to: $to, first: ${PAGE}) { id startsAt endsAt status } }`;
const SLOTS_PER_DAY = 40; // 15-minute slots, 08:00-18:00 UTC
const DAY_MS = 86_400_000;

/**
 * Scenario 4. A provider with `providerSlots` slots (40 a day, 08:00-18:00 UTC, one addAvailability
 * per day) of which `bookedShare` are booked through the booking service; then `availableSlots` over
 * the first `windowDays` days, over HTTP, one call at a time, next to the same SELECT the repository
 * runs (same predicate, order and columns) sent with postgres.js from this process.
 */
export async function runSlotQueries(world: BenchWorld, serverUrl: string, databaseUrl: string, opts: SlotQueryOptions): Promise<SlotQueryResult> {
  const [owner] = await seedUsers(world, "PROVIDER", 1);
  const customers = await seedUsers(world, "CUSTOMER", 16);
  const provider = await world.services.provider.createProvider(owner!, { name: "Slot queries", timeZone: "UTC", requiresConfirmation: true });
  const firstDay = new Date(Math.floor(hourFromNow(24).getTime() / DAY_MS) * DAY_MS + DAY_MS);
  const days = Math.ceil(opts.providerSlots / SLOTS_PER_DAY);
  const seeded: { id: string; startsAt: Date }[] = [];
  await runLimited(
    Array.from({ length: days }, (_, d) => d),
    4,
    async (d) => {
      const n = Math.min(SLOTS_PER_DAY, opts.providerSlots - d * SLOTS_PER_DAY);
      const startsAt = new Date(firstDay.getTime() + d * DAY_MS + 8 * 3_600_000);
      const slots = await world.services.provider.addAvailability(owner!, { providerId: provider.id, startsAt, endsAt: new Date(startsAt.getTime() + n * 15 * 60_000), slotMinutes: 15 });
      seeded.push(...slots.map((s) => ({ id: s.id, startsAt: s.startsAt })));
    },
  );
  // Book an even, deterministic spread of exactly `bookedShare` of the slots, through the real booking path.
  const slotIds = seeded.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime()).map((s) => s.id);
  const toBook = slotIds.filter((_, i) => Math.floor((i + 1) * opts.bookedShare) > Math.floor(i * opts.bookedShare));
  let bookings = 0;
  await runLimited(toBook, 16, async (slotId) => {
    await world.services.bookingCreate.createBooking(customers[bookings % customers.length]!, { slotId });
    bookings++;
  });

  const from = firstDay;
  const to = new Date(firstDay.getTime() + opts.windowDays * DAY_MS);
  const http = new GraphQLHttp(serverUrl, 1);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    const bareQuery = () => sql<{ id: string }[]>`
      select * from slots
      where provider_id = ${provider.id} and status = 'AVAILABLE' and starts_at >= ${from} and starts_at < ${to} and starts_at > ${new Date()}
      order by starts_at asc limit ${PAGE}`;
    const graphqlQuery = () => http.post<{ availableSlots: { id: string }[] }>(AVAILABLE_SLOTS, { p: provider.id, from: from.toISOString(), to: to.toISOString() });

    // Warm both paths (plans, JIT), then alternate so drift hits both alike.
    for (let i = 0; i < 10; i++) {
      await bareQuery();
      await graphqlQuery();
    }
    const sqlMs: number[] = [];
    const graphqlMs: number[] = [];
    let verified = true;
    let slotsReturned = 0;
    for (let i = 0; i < opts.samples; i++) {
      const t0 = performance.now();
      const rows = await bareQuery();
      sqlMs.push(performance.now() - t0);
      const reply = await graphqlQuery();
      graphqlMs.push(reply.roundTripMs);
      const ids = reply.data?.availableSlots.map((s) => s.id) ?? [];
      if (reply.errors || ids.length !== rows.length || ids.some((id, k) => id !== rows[k]!.id)) verified = false;
      slotsReturned = ids.length;
    }
    const g = distribution(graphqlMs);
    const s = distribution(sqlMs);
    return {
      providerSlots: slotIds.length,
      bookings,
      windowDays: opts.windowDays,
      slotsReturned,
      samples: opts.samples,
      graphql: g,
      sql: s,
      ratioP50: Math.round((g.p50Ms / s.p50Ms) * 100) / 100,
      ratioP99: Math.round((g.p99Ms / s.p99Ms) * 100) / 100,
      verified: verified && slotsReturned > 0,
    };
  } finally {
    http.close();
    await sql.end();
  }
}
