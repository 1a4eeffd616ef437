import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { request as httpRequest, type ClientRequest } from "node:http";
import path from "node:path";
import { createInterface } from "node:readline";
import { print } from "graphql";
import type { Client } from "graphql-ws";
import postgres from "postgres";
import { CreateBookingDocument, ProviderBookingEventsDocument } from "../generated/graphql";
import { MODE_REDIS_URL, createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { subscribe, wsClient } from "../support/graphql-client";
import { futureHour, providerWithSlots, registerUser, type TestUser } from "../support/factories";
import { sleep, waitFor } from "../support/wait";

/**
 * SIGTERM/SIGINT on the real process (`node dist/src/main.js`, as `npm start` runs it) against
 * real PostgreSQL: committed bookings keep their outbox rows and responses, WebSockets close
 * with 1001, and a second signal forces exit. Needs `npm run build` first (`npm test` does it).
 */

const root = path.resolve(__dirname, "../..");
const MAIN = path.join(root, "dist/src/main.js");
const JWT_SECRET = "graceful-shutdown-test-secret-0123456789abcdef";
// Several process start-ups (migrations, argon2 registrations) on a shared 2-core machine.
const TEST_TIMEOUT_MS = 240_000;
const BURST = 200;
const CONCURRENCY = 16;

type ServerProcess = { child: ChildProcess; lines: Record<string, unknown>[]; exited: Promise<number | null>; url: string; wsUrl: string };

let available = false;
const databases: TestDatabase[] = [];
const processes: ServerProcess[] = [];
const sockets: Client[] = [];

beforeAll(async () => {
  available = await requireService("postgres");
  if (available && !existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
});
afterEach(async () => {
  for (const c of sockets.splice(0)) await c.dispose();
  for (const p of processes.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await p.exited;
  }
});
afterAll(() => Promise.all(databases.map((d) => d.drop())));

function within<T>(what: string, p: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for: ${what}`)), timeoutMs)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const freshDatabase = async () => databases[databases.push(await createPostgresDatabase()) - 1]!;

const logged = (p: ServerProcess, text: string) => p.lines.some((l) => String(l.msg).includes(text));

/** Starts `node dist/src/main.js` (PORT=0: the listening log line carries the real URL). */
async function startMain(databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: root,
    // WORKER_INTERVAL_MS: workers run rounds all the time, so shutdown has a batch to wait for.
    env: {
      ...{ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "development", LOG_LEVEL: "info", HOST: "127.0.0.1", PORT: "0" },
      ...{ DATABASE_URL: databaseUrl, JWT_SECRET, OUTBOX_RELAY: "off", SQS_EMULATOR_PORT: "0", WORKERS: "on", WORKER_INTERVAL_MS: "200" },
      ...(MODE_REDIS_URL ? { REDIS_URL: MODE_REDIS_URL } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => l && lines.push(l.startsWith("{") ? (JSON.parse(l) as Record<string, unknown>) : { msg: l }));
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      if (code !== 0 && stderr) console.error(`slotwise stderr:\n${stderr}`);
      resolve(code);
    }),
  );
  const proc: ServerProcess = { child, lines, exited, url: "", wsUrl: "" };
  processes.push(proc);
  await waitFor("the server to listen", () => logged(proc, "Slotwise listening on") || child.exitCode !== null, { timeoutMs: 90_000 });
  const line = lines.find((l) => String(l.msg).includes("Slotwise listening on"));
  if (!line) throw new Error(`slotwise exited with ${child.exitCode} before listening: ${stderr}`);
  return Object.assign(proc, { url: String(line.url), wsUrl: String(line.ws) });
}

/** A provider (bookings stay PENDING, one BOOKING_CREATED each), its slots, customers. */
async function market(url: string, slotCount: number, customerCount: number) {
  const { owner, provider, slots } = await providerWithSlots(url, { count: slotCount, slotMinutes: 30, start: futureHour(48) });
  const customers: TestUser[] = [];
  for (let i = 0; i < customerCount; i++) customers.push(await registerUser(url, "CUSTOMER"));
  return { owner, provider, slots, customers };
}

/** A provider-events subscription over a real graphql-ws client; records close codes. */
async function liveSocket(p: ServerProcess, owner: TestUser, providerId: string) {
  const client = wsClient(p.wsUrl, owner.token);
  sockets.push(client);
  const closeCodes: number[] = [];
  let connected = false;
  client.on("connected", () => (connected = true));
  client.on("closed", (e) => closeCodes.push((e as { code: number }).code));
  const sub = subscribe(client, ProviderBookingEventsDocument, { providerId });
  await waitFor("the WebSocket to connect", () => connected, { timeoutMs: 15_000 });
  return { sub, closeCodes };
}

function bookingBody(slotId: string, key: string): string {
  return JSON.stringify({ query: print(CreateBookingDocument), variables: { input: { slotId, idempotencyKey: key } } });
}

/**
 * A createBooking whose body is sent in two parts: the server has the request in flight
 * (headers parsed) until `finish()` sends the rest.
 */
function heldRequest(p: ServerProcess, token: string, body: string) {
  const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${token}` };
  const req: ClientRequest = httpRequest(p.url, { method: "POST", agent: false, headers });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
  });
  response.catch(() => undefined);
  const cut = Math.floor(body.length / 2);
  req.write(body.slice(0, cut));
  return { response, finish: () => req.end(body.slice(cut)), abort: () => req.destroy() };
}

type Outcome = { slotId: string } & ({ kind: "ok"; bookingId: string } | { kind: "refused"; detail: string } | { kind: "lost"; detail: string });

/** One createBooking over HTTP: a booking, a complete response without one, or no response. */
async function tryBooking(url: string, customer: TestUser, slotId: string): Promise<Outcome> {
  let text: string;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${customer.token}` },
      body: bookingBody(slotId, `burst-${slotId}`),
      signal: AbortSignal.timeout(60_000),
    });
    text = await res.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { slotId, kind: "lost", detail: cause?.code ?? cause?.message ?? String(err) };
  }
  try {
    const body = JSON.parse(text) as { data?: { createBooking?: { id: string } } | null; errors?: { extensions?: { code?: string } }[] };
    const id = body.data?.createBooking?.id;
    if (id && !body.errors?.length) return { slotId, kind: "ok", bookingId: id };
    return { slotId, kind: "refused", detail: body.errors?.[0]?.extensions?.code ?? "no data" };
  } catch {
    return { slotId, kind: "refused", detail: `non-JSON response: ${text.slice(0, 80)}` };
  }
}

async function withSql<T>(databaseUrl: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  return fn(sql).finally(() => sql.end());
}

test("SIGTERM during a burst of bookings: exit 0, sockets closed with 1001, every committed booking has its response and its event, and the relay ships every event after a restart", async () => {
  if (!available) return;
  const db = await freshDatabase();
  const first = await startMain(db.url, { OUTBOX_RELAY: "on" });
  const { owner, provider, slots, customers } = await market(first.url, BURST, 4);
  const { closeCodes } = await liveSocket(first, owner, provider.id);

  const outcomes: Outcome[] = [];
  let signalledAfter = -1;
  let next = 0;
  const runner = async () => {
    for (let i = next++; i < BURST; i = next++) {
      outcomes.push(await tryBooking(first.url, customers[i % customers.length]!, slots[i]!.id));
      if (signalledAfter < 0 && outcomes.length >= Math.floor(BURST / 3)) {
        signalledAfter = outcomes.length;
        first.child.kill("SIGTERM");
      }
    }
  };
  await within("the burst to finish", Promise.all(Array.from({ length: CONCURRENCY }, runner)), 120_000);

  expect(signalledAfter).toBeGreaterThan(0);
  expect(await within("the server to exit after SIGTERM", first.exited, 60_000)).toBe(0);
  expect(logged(first, "shutting down")).toBe(true);
  await waitFor("the WebSocket close to reach the client", () => closeCodes.length > 0, { timeoutMs: 10_000 });
  expect(closeCodes).toEqual([1001]);

  const kind = <K extends Outcome["kind"]>(k: K) => outcomes.filter((o): o is Extract<Outcome, { kind: K }> => o.kind === k);
  const [ok, lost, refused] = [kind("ok"), kind("lost"), kind("refused")];
  expect(outcomes).toHaveLength(BURST);
  // Before the signal the burst was healthy: every response up to then was a booking.
  expect(outcomes.slice(0, signalledAfter).filter((o) => o.kind !== "ok")).toEqual([]);

  const { rows, created, published } = await withSql(db.url, async (sql) => ({
    rows: await sql<{ id: string; slot_id: string; status: string; slot_status: string }[]>`
      select b.id, b.slot_id, b.status, s.status as slot_status
      from bookings b join slots s on s.id = b.slot_id where b.provider_id = ${provider.id}`,
    created: await sql<{ booking_id: string; n: number }[]>`
      select booking_id, count(*)::int as n from outbox where event_type = 'BOOKING_CREATED' group by booking_id`,
    published: (await sql<{ n: number }[]>`select count(*)::int as n from outbox where published_at is not null`)[0]!.n,
  }));
  const bookingBySlot = new Map(rows.map((r) => [r.slot_id, r]));
  const createdEvents = new Map(created.map((c) => [c.booking_id, c.n]));

  // Every success is a committed booking holding its slot, with exactly one creation event.
  for (const o of ok) {
    expect(bookingBySlot.get(o.slotId)).toMatchObject({ id: o.bookingId, status: expect.stringMatching(/^(PENDING|CONFIRMED)$/), slot_status: expect.stringMatching(/^(HELD|BOOKED)$/) });
    expect(createdEvents.get(o.bookingId)).toBe(1);
  }
  // A refused request left nothing behind; no booking exists without a request that made it.
  for (const o of refused) expect(bookingBySlot.get(o.slotId)).toBeUndefined();
  const requested = new Set(outcomes.filter((o) => o.kind !== "refused").map((o) => o.slotId));
  for (const r of rows) expect(requested.has(r.slot_id)).toBe(true);
  expect(rows.length).toBeGreaterThanOrEqual(ok.length);
  expect(rows.length).toBeLessThanOrEqual(ok.length + lost.length);
  // No event missing for any booking, whichever way its request ended.
  expect(rows.filter((r) => createdEvents.get(r.id) !== 1)).toEqual([]);
  const cut = lost.filter((o) => bookingBySlot.has(o.slotId)).map((o) => ({ ...o, booking: bookingBySlot.get(o.slotId)!.id }));
  console.info(`burst: SIGTERM after ${signalledAfter} responses; ok=${ok.length} lost=${lost.length} (${[...new Set(lost.map((o) => o.detail))]}), committed=${cut.length}; published before exit=${published}`);

  // Nothing is lost across the restart: the next process's relay ships every committed event.
  const second = await startMain(db.url, { OUTBOX_RELAY: "on" });
  await waitFor(
    "the restarted relay to publish every outbox row",
    () => withSql(db.url, async (sql) => (await sql<{ n: number }[]>`select count(*)::int as n from outbox where published_at is null`)[0]!.n === 0),
    { timeoutMs: 90_000 },
  );
  second.child.kill("SIGTERM");
  expect(await within("the restarted server to exit", second.exited, 60_000)).toBe(0);

  // Every request the server accepted was finished and answered: never an error response, and
  // never a committed booking whose response was cut (client saw a socket error). Fails today:
  // A request read from a keep-alive socket the drain half-closed must not run unanswered.
  expect(refused.map((o) => o.detail)).toEqual([]);
  expect(cut).toEqual([]);
}, TEST_TIMEOUT_MS);

test("a second signal during shutdown forces exit with code 1", async () => {
  if (!available) return;
  const db = await freshDatabase();
  const server = await startMain(db.url, { SHUTDOWN_GRACE_MS: "600000" });
  const { owner, provider, slots, customers } = await market(server.url, 1, 1);
  await liveSocket(server, owner, provider.id);
  // A request whose body never completes keeps the HTTP drain waiting.
  const held = heldRequest(server, customers[0]!.token, bookingBody(slots[0]!.id, "held-forever"));
  await sleep(300);

  server.child.kill("SIGTERM");
  await waitFor("the first signal to start shutdown", () => logged(server, "shutting down"), { timeoutMs: 15_000 });
  expect(server.child.exitCode).toBeNull();
  server.child.kill("SIGINT");
  expect(await within("the forced exit", server.exited, 30_000)).toBe(1);
  expect(server.lines.find((l) => String(l.msg).includes("second signal"))).toMatchObject({ signal: "SIGINT" });
  await expect(held.response).rejects.toThrow();
  held.abort();
}, TEST_TIMEOUT_MS);

test("SIGINT shuts down like SIGTERM: the request in flight completes and commits, sockets close with 1001, exit 0", async () => {
  if (!available) return;
  const db = await freshDatabase();
  const server = await startMain(db.url);
  const { owner, provider, slots, customers } = await market(server.url, 1, 1);
  const { closeCodes } = await liveSocket(server, owner, provider.id);
  const held = heldRequest(server, customers[0]!.token, bookingBody(slots[0]!.id, "in-flight"));
  await sleep(300);

  server.child.kill("SIGINT");
  await waitFor("shutdown to start", () => logged(server, "shutting down"), { timeoutMs: 15_000 });
  expect(server.lines.find((l) => String(l.msg).includes("shutting down"))).toMatchObject({ signal: "SIGINT" });
  held.finish();
  const res = await within("the in-flight response", held.response, 30_000);
  expect(res.status).toBe(200);
  const booking = (JSON.parse(res.body) as { data: { createBooking: { id: string; status: string } } }).data.createBooking;
  expect(booking.status).toBe("PENDING");
  expect(await within("the server to exit after SIGINT", server.exited, 60_000)).toBe(0);
  expect(logged(server, "second signal")).toBe(false);
  await waitFor("the WebSocket close to reach the client", () => closeCodes.length > 0, { timeoutMs: 10_000 });
  expect(closeCodes).toEqual([1001]);

  const stored = await withSql(db.url, (sql) => sql<{ status: string; events: number }[]>`
    select b.status, (select count(*)::int from outbox o where o.booking_id = b.id and o.event_type = 'BOOKING_CREATED') as events
    from bookings b where b.id = ${booking.id}`);
  expect(stored).toEqual([{ status: "PENDING", events: 1 }]);
}, TEST_TIMEOUT_MS);
