import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import postgres from "postgres";
import { AcceptBookingDocument, CancelBookingDocument, CreateWebhookEndpointDocument } from "../generated/graphql";
import { MODE_REDIS_URL, createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { addSlots, bookSlot, createProvider, futureHour, registerUser } from "../support/factories";
import { executeOk } from "../support/graphql-client";
import { WebhookReceiver } from "../support/webhook-receiver";
import { waitFor } from "../support/wait";

/** How long a webhook delivery may take to show up before a wait gives up. */
const DELIVERY_WAIT = { timeoutMs: 20_000 };

/**
 * `kill -9` of the real process (`node dist/src/main.js`) while a webhook request is in flight,
 * against real PostgreSQL: after a restart (two instances, so the claims are shared through
 * leases) the delivery still arrives, and the booking's later events arrive after it, in commit
 * order. Needs `npm run build` first (`npm test` does it).
 */

jest.setTimeout(180_000);

const root = path.resolve(__dirname, "../..");
const MAIN = path.join(root, "dist/src/main.js");
const JWT_SECRET = "webhooks-kill-test-secret-0123456789abcdef";

type ServerProcess = { child: ChildProcess; exited: Promise<unknown>; url: string };

let available = false;
let database: TestDatabase | undefined;
const processes: ServerProcess[] = [];
let receiver: WebhookReceiver | undefined;

beforeAll(async () => {
  available = await requireService("postgres");
  if (available && !existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
});
afterAll(async () => {
  for (const p of processes) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await p.exited;
  }
  await receiver?.down();
  await database?.drop();
});

async function startMain(databaseUrl: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: root,
    env: {
      ...{ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "development", LOG_LEVEL: "info", HOST: "127.0.0.1", PORT: "0" },
      ...{ DATABASE_URL: databaseUrl, JWT_SECRET, OUTBOX_RELAY: "off", WORKERS: "off", SQS_EMULATOR_PORT: "0" },
      // Timeout 4 s, so the lease of a killed worker runs out after 13 s.
      ...{ WEBHOOK_DELIVERY: "on", WEBHOOK_TIMEOUT_MS: "4000", WEBHOOK_RETRY_SCHEDULE: "500ms,1s,2s,4s", WEBHOOK_POLL_MS: "100" },
      ...(MODE_REDIS_URL ? { REDIS_URL: MODE_REDIS_URL } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => l.startsWith("{") && lines.push(JSON.parse(l) as Record<string, unknown>));
  child.stderr!.resume();
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const proc: ServerProcess = { child, exited, url: "" };
  processes.push(proc);
  await waitFor("the server to listen", () => lines.some((l) => String(l.msg).includes("Slotwise listening on")) || child.exitCode !== null, { timeoutMs: 90_000 });
  const line = lines.find((l) => String(l.msg).includes("Slotwise listening on"));
  if (!line) throw new Error(`slotwise exited with ${child.exitCode} before listening`);
  proc.url = String(line.url);
  return proc;
}

test("a delivery in flight when the process is SIGKILLed still arrives after a restart, and the booking's order is kept", async () => {
  if (!available) return;
  database = await createPostgresDatabase();
  let hanging = true;
  receiver = await new WebhookReceiver(() => (hanging ? "hang" : { status: 200 })).up();

  const first = await startMain(database.url);
  const owner = await registerUser(first.url, "PROVIDER");
  const provider = await createProvider(first.url, owner, { requiresConfirmation: true });
  const [slot] = await addSlots(first.url, owner, provider.id, { count: 1, start: futureHour(48) });
  const customer = await registerUser(first.url, "CUSTOMER");
  const { secret } = (await executeOk(first.url, CreateWebhookEndpointDocument, { input: { url: receiver.url } }, owner.token)).createWebhookEndpoint;
  const booking = await bookSlot(first.url, customer, slot!.id);
  await waitFor("the first request in flight", () => receiver!.received.length === 1, DELIVERY_WAIT);
  await executeOk(first.url, AcceptBookingDocument, { id: booking.id }, owner.token);
  await executeOk(first.url, CancelBookingDocument, { id: booking.id, reason: "kill test" }, customer.token);

  first.child.kill("SIGKILL");
  await first.exited;
  const beforeKill = receiver.received.length;
  hanging = false;
  const killedAt = Date.now();
  await Promise.all([startMain(database.url), startMain(database.url)]);

  await waitFor("every event delivered", () => new Set(receiver!.received.map((r) => r.event.eventId)).size === 3 && receiver!.types().includes("BOOKING_CANCELLED"), { timeoutMs: 90_000 });
  const afterKill = receiver.received.slice(beforeKill);
  // The killed worker's claim ran out, then the event was sent again: at least once.
  expect(afterKill[0]!.event.eventType).toBe("BOOKING_CREATED");
  expect(afterKill[0]!.at - killedAt).toBeGreaterThan(5_000);
  const firstSeen: string[] = [];
  for (const r of receiver.received) if (!firstSeen.includes(r.event.eventType)) firstSeen.push(r.event.eventType);
  expect(firstSeen).toEqual(["BOOKING_CREATED", "BOOKING_CONFIRMED", "BOOKING_CANCELLED"]);
  expect(receiver.verifiedWith(secret)).toHaveLength(receiver.received.length);

  const sql = postgres(database.url, { max: 1, onnotice: () => undefined });
  try {
    await waitFor("recorded", async () => (await sql`select count(*)::int as n from webhook_deliveries where status = 'SUCCEEDED'`)[0]!.n === 3, DELIVERY_WAIT);
    const rows = await sql`select event_type, status from webhook_deliveries order by id`;
    expect(rows.map((r) => [r.event_type, r.status])).toEqual([
      ["BOOKING_CREATED", "SUCCEEDED"],
      ["BOOKING_CONFIRMED", "SUCCEEDED"],
      ["BOOKING_CANCELLED", "SUCCEEDED"],
    ]);
  } finally {
    await sql.end();
  }
});
