/**
 * The same-run SQL baseline of "createBooking on distinct slots": pgbench runs the booking
 * transaction's essential writes, as the app issues them, against the benchmark's database.
 *
 * What the script mirrors (BookingCreateService.createBooking for a provider that requires
 * confirmation, then recordBookingChanges): the conditional slot claim (AVAILABLE -> HELD)
 * with RETURNING, the PENDING booking with its hold, one booking_status_changes row and one
 * BOOKING_CREATED outbox row whose payload has the envelope's fields and size (including a
 * requestId, as over HTTP). createBooking writes no reminder rows (the reminder worker does).
 *
 * What it leaves out, so the figure is a floor for the app's transaction:
 * - the app's three reads before the claim (findSlotById, findProviderById, and
 *   findSchedule for the minimum notice; the script claims with `starts_at > now()`),
 *   and the idempotency-key lookup (only when a key is given);
 * - the lapsed-hold expiry and second claim, which run only when the first claim fails;
 * - RETURNING * (the script returns the columns later statements need);
 * - the envelope built in the client (here jsonb_build_object builds the same document);
 * - everything after commit (live publish to Redis) and before it (GraphQL, HTTP, auth).
 * It adds one primary-key lookup per transaction: the slot and customer come from the
 * queue table rather than from the caller.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { distribution, type Distribution } from "./stats";

/** Ordered work for pgbench: row n is the n-th booking's slot, provider and customer. */
export const PGBENCH_QUEUE_TABLE = "bench_pgbench_queue";
/** The app's default BOOKING_HOLD_MINUTES. */
export const PGBENCH_HOLD_MINUTES = 15;

/**
 * toISOString()'s format for to_char. pgbench substitutes `:name` even inside string
 * literals, so the format (which has colons) goes in as the variable `iso_utc` (-D).
 */
const ISO_UTC_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';
const ISO_UTC = ":iso_utc";

/**
 * The pgbench script. pgbench keeps a client's variables from one transaction to the next
 * (checked on pgbench 15), so `k` (from `-D k=0`) counts the client's transactions and each
 * transaction gets its own queue row n = offset + client_id * per_client + k - 1 without an
 * extra round trip. A slot that cannot be claimed makes the UPDATE return no row, and
 * `\gset` then aborts that client loudly (pgbench exits 2); runPgbench counts the loss.
 */
export const PGBENCH_SCRIPT_TEXT = `-- Slotwise createBooking, essential SQL (scripts/bench/pgbench.ts).
-- Variables given by runPgbench with -D are k=0, offset, per_client and iso_utc.
\\set k :k + 1
\\set n :offset + :client_id * :per_client + :k - 1
BEGIN;
UPDATE slots AS s SET status = 'HELD', updated_at = now()
  FROM ${PGBENCH_QUEUE_TABLE} AS q
  WHERE q.n = :n AND s.id = q.slot_id AND s.status = 'AVAILABLE' AND s.starts_at > now()
  RETURNING s.id AS slot_id, s.provider_id AS provider_id, q.customer_id AS customer_id,
    to_char(s.starts_at AT TIME ZONE 'UTC', ${ISO_UTC}) AS slot_start,
    to_char(s.ends_at AT TIME ZONE 'UTC', ${ISO_UTC}) AS slot_end \\gset
INSERT INTO bookings (slot_id, provider_id, customer_id, status, hold_expires_at, idempotency_key, created_at, updated_at)
  VALUES (:slot_id, :provider_id, :customer_id, 'PENDING', now() + interval '${PGBENCH_HOLD_MINUTES} minutes', NULL, now(), now())
  RETURNING id AS booking_id \\gset
INSERT INTO booking_status_changes (booking_id, from_status, to_status, actor_id, reason, at)
  VALUES (:booking_id, NULL, 'PENDING', :customer_id, NULL, now());
INSERT INTO outbox (event_id, event_type, booking_id, payload)
  SELECT e.id, 'BOOKING_CREATED', :booking_id, jsonb_build_object(
    'eventId', e.id, 'eventType', 'BOOKING_CREATED', 'version', 1,
    'timestamp', to_char(now() AT TIME ZONE 'UTC', ${ISO_UTC}),
    'bookingId', :booking_id::text, 'providerId', :provider_id::text,
    'slotId', :slot_id::text, 'userId', :customer_id::text,
    'slotStart', :slot_start::text, 'slotEnd', :slot_end::text,
    'status', 'PENDING', 'previousStatus', NULL,
    'actorId', :customer_id::text, 'reason', NULL, 'requestId', e.request_id)
  FROM (SELECT gen_random_uuid() AS id, gen_random_uuid()::text AS request_id) AS e;
COMMIT;
`;

export interface PgbenchRun {
  clients: number;
  /** Transactions pgbench completed ("actually processed"): bookings made; failed ones are not in it. */
  transactions: number;
  /** transactions / tps: pgbench's measured span, without the initial connections. */
  seconds: number;
  /** pgbench's "tps = ... (without initial connection time)". */
  tps: number;
  /** Per-transaction latency from pgbench's transaction log (its microseconds, here ms). */
  latency: Distribution;
  /**
   * Bookings expected (clients x transactionsPerClient) minus active bookings the run added
   * on its range's slots, counted in the database: `transactions + failed` = expected on a
   * run pgbench reports truthfully, so do not subtract `failed` from `transactions`.
   */
  failed: number;
  /** pgbench's error lines (stderr), empty on a clean run: why `failed` is not 0. */
  errors: string[];
  script: string;
}

function connect(databaseUrl: string) {
  return postgres(databaseUrl, { max: 1, onnotice: () => undefined, connect_timeout: 10 });
}

/**
 * (Re)creates the queue table with `rows` as rows n = 0 .. rows.length - 1, in order.
 * Slots must be AVAILABLE, in the future, of providers that require confirmation, and
 * distinct; runs take disjoint ranges of n (see runPgbench's `offset`).
 */
export async function preparePgbenchQueue(
  databaseUrl: string,
  rows: { slotId: string; providerId: string; customerId: string }[],
): Promise<void> {
  const sql = connect(databaseUrl);
  try {
    await sql.unsafe(`drop table if exists ${PGBENCH_QUEUE_TABLE}`);
    // Unlogged: it is scaffolding, read-only during the runs, and never needs to survive a crash.
    await sql.unsafe(
      `create unlogged table ${PGBENCH_QUEUE_TABLE} (n int primary key, slot_id uuid not null unique, provider_id uuid not null, customer_id uuid not null)`,
    );
    for (let i = 0; i < rows.length; i += 5_000) {
      const chunk = rows.slice(i, i + 5_000);
      await sql`
        insert into ${sql(PGBENCH_QUEUE_TABLE)} (n, slot_id, provider_id, customer_id)
        select * from unnest(${chunk.map((_, j) => i + j)}::int[], ${chunk.map((r) => r.slotId)}::uuid[],
          ${chunk.map((r) => r.providerId)}::uuid[], ${chunk.map((r) => r.customerId)}::uuid[])`;
    }
    await sql.unsafe(`analyze ${PGBENCH_QUEUE_TABLE}`);
  } finally {
    await sql.end();
  }
}

/** Active bookings on the slots of queue rows [first, last]. */
async function activeBookingsInRange(sql: postgres.Sql, first: number, last: number): Promise<number> {
  const [row] = await sql<{ count: number }[]>`
    select count(*)::int as count from ${sql(PGBENCH_QUEUE_TABLE)} q
    join bookings b on b.slot_id = q.slot_id and b.status in ('PENDING', 'CONFIRMED')
    where q.n between ${first} and ${last}`;
  return row!.count;
}

/** libpq takes the URL as pgbench's dbname argument; the password goes by PGPASSWORD, out of argv. */
function connectionArgs(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (url.password) {
    env.PGPASSWORD = decodeURIComponent(url.password);
    url.password = "";
  }
  return { dbname: url.toString(), env };
}

function runProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`pgbench did not finish within ${timeoutMs} ms; killed. stderr: ${stderr.slice(-2_000)}`));
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${command}: ${err.message} (Debian: apt-get install postgresql-15)`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Latencies (ms) of every logged transaction; PG 15 writes "failed"/"skipped" in place of a failed one's time. */
async function readTransactionLog(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const file of await readdir(dir)) {
    if (!file.startsWith("txlog.")) continue;
    for (const line of (await readFile(join(dir, file), "utf8")).split("\n")) {
      // client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]; time in µs.
      const time = line.trim().split(/\s+/)[2];
      if (time !== undefined && /^\d+$/.test(time)) out.push(Number(time) / 1_000);
    }
  }
  return out;
}

/**
 * Runs the booking script at `clients` clients, each making `transactionsPerClient`
 * bookings from queue rows [offset, offset + clients * transactionsPerClient). pgbench runs
 * with -n -M prepared, -j min(clients, 2), -t, and a per-transaction log in a temp dir.
 * Clients that hit an unclaimable slot abort (pgbench exits 2): that is reported in `failed`
 * and `errors`, not thrown.
 *
 * @param timeoutMs - pgbench is killed (SIGKILL) and this rejects after it
 * @throws when the queue lacks rows for the range, pgbench cannot start or exits other than 0 or 2
 */
export async function runPgbench(
  databaseUrl: string,
  opts: { clients: number; transactionsPerClient: number; offset: number; threads?: number; timeoutMs: number },
): Promise<PgbenchRun> {
  const { clients, transactionsPerClient: perClient, offset } = opts;
  for (const [name, v, min] of [["clients", clients, 1], ["transactionsPerClient", perClient, 1], ["offset", offset, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`runPgbench: ${name} must be an integer >= ${min}, got ${v}`);
  }
  const expected = clients * perClient;
  const last = offset + expected - 1;
  const sql = connect(databaseUrl);
  const dir = await mkdtemp(join(tmpdir(), "slotwise-pgbench-"));
  try {
    const [have] = await sql<{ count: number }[]>`
      select count(*)::int as count from ${sql(PGBENCH_QUEUE_TABLE)} where n between ${offset} and ${last}`;
    if (have!.count !== expected) {
      throw new Error(`runPgbench: ${PGBENCH_QUEUE_TABLE} has ${have!.count} of the ${expected} rows ${offset}..${last}`);
    }
    // Ground truth comes from the database, whatever pgbench says; counted before too, so a
    // range whose slots were already booked shows up as failures rather than successes.
    const before = await activeBookingsInRange(sql, offset, last);
    const scriptPath = join(dir, "create-booking.sql");
    await writeFile(scriptPath, PGBENCH_SCRIPT_TEXT);
    const threads = opts.threads ?? Math.min(clients, 2);
    const { dbname, env } = connectionArgs(databaseUrl);
    const args = [
      "-n",
      "-M", "prepared",
      "-c", String(clients),
      "-j", String(threads),
      "-t", String(perClient),
      "-D", "k=0",
      "-D", `offset=${offset}`,
      "-D", `per_client=${perClient}`,
      "-D", `iso_utc=${ISO_UTC_FORMAT}`,
      "-f", scriptPath,
      "-l", `--log-prefix=${join(dir, "txlog")}`,
      dbname,
    ];
    const res = await runProcess(process.env.PGBENCH_BIN || "pgbench", args, env, opts.timeoutMs);
    if (res.code !== 0 && res.code !== 2) {
      throw new Error(`pgbench exited ${res.code}: ${res.stderr.trim().slice(-2_000)}`);
    }
    const processedMatch = /number of transactions actually processed: (\d+)/.exec(res.stdout);
    if (!processedMatch) throw new Error(`unexpected pgbench output:\n${res.stdout}\n${res.stderr}`);
    const transactions = Number(processedMatch[1]);
    // pgbench prints no tps when nothing completed.
    const tpsMatch = /tps = ([\d.]+) \(without initial connection time\)/.exec(res.stdout);
    if (!tpsMatch && transactions > 0) throw new Error(`pgbench printed no tps:\n${res.stdout}`);
    const tps = tpsMatch ? Number(tpsMatch[1]) : 0;

    const made = (await activeBookingsInRange(sql, offset, last)) - before;
    return {
      clients,
      transactions,
      seconds: tps > 0 ? Math.round((transactions / tps) * 1_000) / 1_000 : 0,
      tps: Math.round(tps * 10) / 10,
      latency: distribution(await readTransactionLog(dir)),
      failed: expected - made,
      errors: res.stderr.split("\n").map((l) => l.trim()).filter((l) => l.length > 0),
      script: PGBENCH_SCRIPT_TEXT,
    };
  } finally {
    await sql.end();
    await rm(dir, { recursive: true, force: true });
  }
}
