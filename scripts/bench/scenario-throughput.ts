import postgres from "postgres";
import { closedLoop } from "./load";
import { GraphQLHttp } from "./graphql-http";
import { PGBENCH_SCRIPT_TEXT, preparePgbenchQueue, runPgbench } from "./pgbench";
import type { LoadPoint, ThroughputResult } from "./result";
import { hourFromNow, seedProvider, seedUsers, type BenchWorld } from "./world";

export interface ThroughputOptions {
  /** Concurrent clients per level, e.g. [1, 8, 32, 128]. */
  levels: number[];
  /** Bookings attempted per level and per method. */
  opsPerLevel: number;
  /** Each level stops after this long (ms) even if bookings remain. */
  levelDeadlineMs: number;
  /** Untimed bookings before each method's first level (connections, JIT, plan caches). */
  warmup: number;
  /** Only the HTTP runs (for a CPU profile of the server). */
  httpOnly?: boolean;
}

const PROVIDERS = 16;
const CREATE_BOOKING = "mutation Book($input: CreateBookingInput!) { createBooking(input: $input) { id status } }";
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

interface Slot {
  slotId: string;
  providerId: string;
}

/** Connections PostgreSQL can still accept for pgbench, keeping a margin for everything else. */
async function freeConnections(databaseUrl: string): Promise<number> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await sql<{ max: number; used: number; reserved: number }[]>`
      select current_setting('max_connections')::int as max,
             current_setting('superuser_reserved_connections')::int as reserved,
             (select count(*) from pg_stat_activity)::int as used`;
    return row!.max - row!.reserved - row!.used - 5;
  } finally {
    await sql.end();
  }
}

/**
 * Scenario 1. createBooking on distinct slots at each client count, three ways in the same run:
 * GraphQL over HTTP to the server process, the booking service called in this process (same
 * transaction, no HTTP or GraphQL), and pgbench running the transaction's essential SQL.
 * Customers are round-robin over clients; slots are interleaved over 16 providers.
 */
export async function runThroughput(world: BenchWorld, serverUrl: string, databaseUrl: string, opts: ThroughputOptions): Promise<ThroughputResult> {
  const maxClients = Math.max(...opts.levels);
  const perMethod = opts.warmup + opts.levels.length * opts.opsPerLevel;
  const pgbenchSlots = opts.levels.reduce((n, c) => n + opts.opsPerLevel + c, 0);
  const total = (opts.httpOnly ? 1 : 2) * perMethod + (opts.httpOnly ? 0 : pgbenchSlots);

  const customers = await seedUsers(world, "CUSTOMER", maxClients);
  const owners = await seedUsers(world, "PROVIDER", PROVIDERS);
  const perProvider = Math.ceil(total / PROVIDERS);
  const startsAt = hourFromNow(24);
  const providers = await Promise.all(owners.map((owner, i) => seedProvider(world, owner, { slotCount: perProvider, slotMinutes: 15, startsAt, name: `Throughput ${i}` })));
  // Round-robin over providers, so concurrent bookings spread as real traffic does.
  const slots: Slot[] = [];
  for (let k = 0; k < perProvider; k++) for (const p of providers) slots.push({ slotId: p.slots[k]!.id, providerId: p.id });
  let cursor = 0;
  const take = (n: number) => {
    const out = slots.slice(cursor, cursor + n);
    if (out.length < n) throw new Error(`throughput: ran out of seeded slots (${slots.length})`);
    cursor += n;
    return out;
  };

  const client = new GraphQLHttp(serverUrl, maxClients);
  const viaHttp = async (slot: Slot, c: number) => {
    const reply = await client.post<{ createBooking: { id: string } }>(CREATE_BOOKING, { input: { slotId: slot.slotId } }, customers[c % customers.length]!.token);
    return !reply.errors && Boolean(reply.data?.createBooking.id);
  };
  const viaService = async (slot: Slot, c: number) => {
    const { created } = await world.services.bookingCreate.createBooking(customers[c % customers.length]!, { slotId: slot.slotId });
    return created;
  };

  let made = 0;
  const warmUp = async (call: (slot: Slot, c: number) => Promise<boolean>) => {
    made += (await closedLoop(take(opts.warmup), Math.min(8, maxClients), opts.levelDeadlineMs, call)).operations;
  };
  const level = async (clients: number, call: (slot: Slot, c: number) => Promise<boolean>) => {
    const point = await closedLoop(take(opts.opsPerLevel), clients, opts.levelDeadlineMs, call);
    made += point.operations;
    return point;
  };

  try {
    const http: LoadPoint[] = [];
    const service: LoadPoint[] = [];
    const pgbench: LoadPoint[] = [];
    await warmUp(viaHttp);
    if (!opts.httpOnly) {
      await warmUp(viaService);
      const queue = take(pgbenchSlots);
      await preparePgbenchQueue(
        databaseUrl,
        queue.map((s, i) => ({ slotId: s.slotId, providerId: s.providerId, customerId: customers[i % customers.length]!.userId })),
      );
    }
    let offset = 0;
    // The three ways take turns at each client count, so drift in the machine's load (other
    // tenants, PostgreSQL's checkpoints) lands on all three alike and the ratios stay honest.
    for (const clients of opts.levels) {
      process.stderr.write(`  ${clients} clients: http\n`);
      http.push(await level(clients, viaHttp));
      if (opts.httpOnly) continue;
      process.stderr.write(`  ${clients} clients: service\n`);
      service.push(await level(clients, viaService));
      process.stderr.write(`  ${clients} clients: pgbench\n`);
      const connections = Math.max(1, Math.min(clients, await freeConnections(databaseUrl)));
      const perClient = Math.ceil(opts.opsPerLevel / connections);
      const run = await runPgbench(databaseUrl, { clients: connections, transactionsPerClient: perClient, offset, timeoutMs: opts.levelDeadlineMs * 2 });
      offset += connections * perClient;
      made += run.transactions;
      pgbench.push({ clients, connections, operations: run.transactions, errors: run.failed, seconds: run.seconds, perSecond: run.tps, latency: run.latency });
    }
    const check = await verifyBookings(databaseUrl, providers.map((p) => p.id), made);
    const ratios = opts.levels.map((clients, i) => ({
      clients,
      httpOverService: service[i] ? round(http[i]!.perSecond / service[i]!.perSecond) : Number.NaN,
      httpOverPgbench: pgbench[i] ? round(http[i]!.perSecond / pgbench[i]!.perSecond) : Number.NaN,
      serviceOverPgbench: service[i] && pgbench[i] ? round(service[i]!.perSecond / pgbench[i]!.perSecond) : Number.NaN,
    }));
    const errors = [...http, ...service, ...pgbench].reduce((n, p) => n + p.errors, 0);
    return {
      http,
      service,
      pgbench,
      ratios,
      pgbenchScript: PGBENCH_SCRIPT_TEXT,
      verified: check.ok && errors === 0,
      detail: `${check.detail}; ${errors} failed calls`,
    };
  } finally {
    client.close();
  }
}

/** Every booking made on these providers is there once, with its event, and no slot has two active bookings. */
async function verifyBookings(databaseUrl: string, providerIds: string[], made: number): Promise<{ ok: boolean; detail: string }> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await sql<{ bookings: number; doubled: number; orphans: number }[]>`
      with mine as (select * from bookings where provider_id = any(${providerIds}::uuid[]))
      select (select count(*) from mine)::int as bookings,
             (select count(*) from (select slot_id from mine where status in ('PENDING', 'CONFIRMED') group by slot_id having count(*) > 1) d)::int as doubled,
             (select count(*) from mine b where not exists (select 1 from outbox o where o.booking_id = b.id))::int as orphans`;
    const ok = row!.bookings === made && row!.doubled === 0 && row!.orphans === 0;
    return { ok, detail: `${row!.bookings} bookings in the database for ${made} successful calls, ${row!.doubled} slots booked twice, ${row!.orphans} bookings without an outbox event` };
  } finally {
    await sql.end();
  }
}
