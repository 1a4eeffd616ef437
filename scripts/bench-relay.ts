/**
 * `npm run bench:relay [-- --quick]`: how fast the outbox relay ships events to SQS, next to
 * what the same SQS endpoint takes from a plain SendMessageBatch loop, and how long an event
 * takes from commit to a consumer.
 *
 * Runs against real PostgreSQL (TEST_POSTGRES_URL, else DATABASE_URL, else the local default;
 * a fresh database is created and dropped) and the embedded SQS emulator (fauxqs, in this
 * process, on a free port of 127.0.0.1). Phases:
 *   raw      SendMessageBatch to the events queue: 8 calls in flight, 10 envelope bodies each
 *   relay    N outbox rows inserted directly, then OutboxRelay.drain() with its defaults
 *   latency  a server (relay started normally, woken after each commit) takes M bookings
 *            through its services at a steady rate; a consumer long-polls the events queue
 * Options: --quick (2,000 events, 100 bookings), --events N, --bookings M, --rate R (bookings/s),
 * --claim-limit L (relay rows per round; default: the relay's), --out DIR (default bench/results).
 * Writes DIR/relay-<ISO instant>.json and prints a table. Exit code 1 when a check failed.
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { GetQueueAttributesCommand, PurgeQueueCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { count, isNull } from "drizzle-orm";
import pino from "pino";
import { openDatabase, type Db } from "../src/db/client";
import { outbox } from "../src/db/schema";
import { systemClock } from "../src/domain/clock";
import type { BookingEventEnvelope } from "../src/events/envelope";
import { OutboxRelay } from "../src/events/outbox-relay";
import { EMULATOR_CREDENTIALS, createSqsClient, type QueueUrls } from "../src/events/queue-setup";
import { startSqsEmulator } from "../src/events/sqs-emulator";
import { SQS_MAX_BATCH_ENTRIES, toBatchEntry } from "../src/events/sqs-routing";
import { measureLatency, type LatencyResult } from "./bench/latency";
import { createBenchDatabase } from "./bench/pg";
import type { Machine as BenchMachine } from "./bench/result";
import { runLimited, table, withDeadline } from "./bench/stats";
import { generateEnvelopes, insertOutbox, messagesFor } from "./bench/workload";

const REGION = "us-east-1";
const RAW_CONCURRENCY = 8; // the relay's default sendConcurrency
const PHASE_DEADLINE_MS = 15 * 60_000;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    events: { type: "string" },
    bookings: { type: "string" },
    rate: { type: "string" },
    "claim-limit": { type: "string" },
    out: { type: "string" },
  },
});

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

const EVENTS = positiveInt("events", args.events, args.quick ? 2_000 : 20_000);
const BOOKINGS = positiveInt("bookings", args.bookings, args.quick ? 100 : 500);
const RATE = positiveInt("rate", args.rate, 50);
const CLAIM_LIMIT = args["claim-limit"] === undefined ? undefined : positiveInt("claim-limit", args["claim-limit"], 100);
const OUT_DIR = path.resolve(args.out ?? "bench/results");

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }));
  return Number(res.Attributes?.ApproximateNumberOfMessages ?? Number.NaN);
}

async function purge(sqs: SQSClient, urls: readonly string[]): Promise<void> {
  for (const QueueUrl of urls) await sqs.send(new PurgeQueueCommand({ QueueUrl }));
}

interface RawResult {
  messages: number;
  batches: number;
  concurrency: number;
  seconds: number;
  messagesPerSecond: number;
  failedEntries: number;
}

/** Plain SendMessageBatch to one queue, as many in flight as the relay uses, bodies like the relay's. */
async function measureRaw(sqs: SQSClient, queueUrl: string, envelopes: readonly BookingEventEnvelope[]): Promise<RawResult> {
  const batches: BookingEventEnvelope[][] = [];
  for (let i = 0; i < envelopes.length; i += SQS_MAX_BATCH_ENTRIES) batches.push(envelopes.slice(i, i + SQS_MAX_BATCH_ENTRIES));
  let failedEntries = 0;
  const send = async (batch: BookingEventEnvelope[]) => {
    const res = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((e, k) => toBatchEntry(String(k), e, queueUrl)) }));
    failedEntries += res.Failed?.length ?? 0;
  };
  // Warm-up (connections, JIT), not timed.
  await runLimited(batches.slice(0, RAW_CONCURRENCY), RAW_CONCURRENCY, send);
  await purge(sqs, [queueUrl]);
  failedEntries = 0;

  const started = performance.now();
  await withDeadline("raw SendMessageBatch", PHASE_DEADLINE_MS, runLimited(batches, RAW_CONCURRENCY, send));
  const seconds = (performance.now() - started) / 1000;
  const depth = await queueDepth(sqs, queueUrl);
  if (depth !== envelopes.length - failedEntries) throw new Error(`raw phase: queue holds ${depth} messages, expected ${envelopes.length - failedEntries}`);
  await purge(sqs, [queueUrl]);
  return { messages: envelopes.length, batches: batches.length, concurrency: RAW_CONCURRENCY, seconds: round(seconds, 3), messagesPerSecond: round(envelopes.length / seconds, 1), failedEntries };
}

interface RelayResult {
  events: number;
  messages: number;
  bookings: number;
  rounds: number;
  claimLimit: number | "default (100)";
  insertSeconds: number;
  seconds: number;
  eventsPerSecond: number;
  messagesPerSecond: number;
  unpublishedAfter: number;
  queueDepths: Record<keyof QueueUrls, number>;
  verified: boolean;
}

/** Inserts the rows, then times the relay shipping all of them (claim, send, mark, round after round). */
async function measureRelay(db: Db, sqs: SQSClient, routes: QueueUrls, envelopes: readonly BookingEventEnvelope[]): Promise<RelayResult> {
  const insertStarted = performance.now();
  await insertOutbox(db, envelopes);
  const insertSeconds = (performance.now() - insertStarted) / 1000;
  const relay = new OutboxRelay(db, sqs, routes, systemClock, pino({ level: "silent" }), CLAIM_LIMIT ? { claimLimit: CLAIM_LIMIT } : {});

  const started = performance.now();
  let rounds = 0;
  const loop = async () => {
    // drain(), counting rounds; bounded: each round publishes or holds back what it claims.
    while ((await relay.relayRound()).claimed > 0) rounds++;
  };
  await withDeadline("relay drain", PHASE_DEADLINE_MS, loop());
  const seconds = (performance.now() - started) / 1000;

  const [row] = await db.select({ n: count() }).from(outbox).where(isNull(outbox.publishedAt));
  const unpublishedAfter = Number(row?.n ?? -1);
  const expected = {
    bookingRequest: envelopes.filter((e) => e.eventType === "BOOKING_CREATED").length,
    bookingConfirmation: envelopes.filter((e) => e.eventType === "BOOKING_CONFIRMED").length,
    bookingEvents: envelopes.length,
  };
  const queueDepths = {
    bookingRequest: await queueDepth(sqs, routes.bookingRequest),
    bookingConfirmation: await queueDepth(sqs, routes.bookingConfirmation),
    bookingEvents: await queueDepth(sqs, routes.bookingEvents),
  };
  await purge(sqs, Object.values(routes));
  const messages = messagesFor(envelopes, routes);
  return {
    events: envelopes.length,
    messages,
    bookings: new Set(envelopes.map((e) => e.bookingId)).size,
    rounds,
    claimLimit: CLAIM_LIMIT ?? "default (100)",
    insertSeconds: round(insertSeconds, 3),
    seconds: round(seconds, 3),
    eventsPerSecond: round(envelopes.length / seconds, 1),
    messagesPerSecond: round(messages / seconds, 1),
    unpublishedAfter,
    queueDepths,
    verified: unpublishedAfter === 0 && JSON.stringify(queueDepths) === JSON.stringify(expected),
  };
}

function fauxqsVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.resolve("node_modules/fauxqs/package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The run's machine as `npm run bench` records it, with the SQS emulator's version where Redis's would be. */
type Machine = Omit<BenchMachine, "redis"> & { fauxqs: string };

function render(r: { raw: RawResult; relay: RelayResult; ratio: { messages: number; events: number }; latency: LatencyResult }, machine: Machine): string {
  const l = r.latency.commitToQueue;
  return [
    `Slotwise relay benchmark (${args.quick ? "quick" : "full"}): ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}, fauxqs ${machine.fauxqs}`,
    `load average (1 min) at start / end: ${machine.loadAverage.atStart[0]} / ${machine.loadAverage.atEnd[0]} (other work on the machine skews every figure)`,
    "",
    table([
      ["phase", "count", "seconds", "throughput"],
      [`raw SendMessageBatch (${r.raw.concurrency} in flight x 10)`, `${fmt(r.raw.messages)} msg`, fmt(r.raw.seconds, 2), `${fmt(r.raw.messagesPerSecond)} msg/s`],
      [`relay drain (${r.relay.rounds} rounds, claim ${r.relay.claimLimit})`, `${fmt(r.relay.events)} events`, fmt(r.relay.seconds, 2), `${fmt(r.relay.eventsPerSecond)} events/s`],
      ["  same run, as SQS messages", `${fmt(r.relay.messages)} msg`, "", `${fmt(r.relay.messagesPerSecond)} msg/s`],
      ["relay / raw (messages per second)", "", "", fmt(r.ratio.messages, 2)],
      ["relay events/s / raw msg/s", "", "", fmt(r.ratio.events, 2)],
    ]),
    "",
    table([
      ["commit-to-queue latency", "events", "p50 ms", "p90 ms", "p99 ms", "max ms"],
      [`${r.latency.bookings} bookings at ${r.latency.ratePerSecond}/s`, fmt(l.count), fmt(l.p50Ms, 1), fmt(l.p90Ms, 1), fmt(l.p99Ms, 1), fmt(l.maxMs, 1)],
    ]),
    `  (from outbox.created_at, the commit's transaction start, to receipt by a consumer long-polling the events queue; ${r.latency.missing} missing, ${r.latency.failedBookings} failed bookings)`,
    "",
    `checks: relay ${r.relay.verified ? "ok" : "FAILED"} (queues ${JSON.stringify(r.relay.queueDepths)}, unpublished ${r.relay.unpublishedAfter}); latency ${r.latency.missing === 0 && r.latency.failedBookings === 0 ? "ok" : "FAILED"}`,
  ].join("\n");
}

async function main(): Promise<number> {
  const loadAtStart = os.loadavg().map((n) => round(n, 2));
  const database = await createBenchDatabase();
  const cleanups: (() => Promise<void>)[] = [() => database.drop()];
  try {
    const emulator = await startSqsEmulator(0, REGION);
    cleanups.unshift(() => emulator.stop());
    const sqs = createSqsClient({ region: REGION, endpoint: emulator.endpoint, credentials: EMULATOR_CREDENTIALS });
    cleanups.unshift(async () => sqs.destroy());
    const db = await openDatabase({ databaseUrl: database.url, pgliteDir: "memory://", poolMax: 10 });
    cleanups.unshift(() => db.close());
    await db.migrate();

    const envelopes = generateEnvelopes(EVENTS);
    process.stderr.write(`raw SendMessageBatch: ${EVENTS} messages...\n`);
    const raw = await measureRaw(sqs, emulator.queueUrls.bookingEvents, envelopes);
    process.stderr.write(`relay: ${EVENTS} outbox events...\n`);
    const relay = await measureRelay(db.db, sqs, emulator.queueUrls, envelopes);
    process.stderr.write(`latency: ${BOOKINGS} bookings at ${RATE}/s...\n`);
    const latency = await measureLatency(database.url, { bookings: BOOKINGS, ratePerSecond: RATE, deadlineMs: PHASE_DEADLINE_MS });

    const machine: Machine = {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      postgres: database.serverVersion,
      fauxqs: fauxqsVersion(),
      loadAverage: { atStart: loadAtStart, atEnd: os.loadavg().map((n) => round(n, 2)) },
    };
    const ratio = { messages: round(relay.messagesPerSecond / raw.messagesPerSecond, 3), events: round(relay.eventsPerSecond / raw.messagesPerSecond, 3) };
    const result = { startedAt: new Date().toISOString(), mode: args.quick ? "quick" : "full", machine, raw, relay, ratio, latency };
    await mkdir(OUT_DIR, { recursive: true });
    const file = path.join(OUT_DIR, `relay-${new Date().toISOString().replace(/:/g, "-").replace(/\.\d+Z$/, "Z")}.json`);
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(render(result, machine));
    console.log(`\nwritten: ${path.relative(process.cwd(), file)}`);
    return relay.verified && latency.missing === 0 && latency.failedBookings === 0 ? 0 : 1;
  } finally {
    for (const fn of cleanups) await fn().catch((err) => console.error("cleanup failed:", err));
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
