/**
 * `npm run bench [-- --quick] [--only throughput,contention,fanout,slots,relay] [--profile]`
 *
 * Every scenario of docs/benchmarks.md against real PostgreSQL (TEST_POSTGRES_URL, else
 * DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created and
 * dropped) and Redis (REDIS_URL, else redis://127.0.0.1:6379). The server runs in its own process
 * (scripts/bench/server-process), this process is the load generator, pgbench and the relay
 * benchmark are processes of their own; all on 127.0.0.1. Every loop is bounded in count and time.
 *
 * Writes bench/results/<ISO instant>.json and, for a full run, docs/benchmarks.md with PNG curves
 * in docs/benchmarks/ (a quick run writes its report next to its JSON instead). `--profile` runs only
 * scenario 1 over HTTP (or the `--only` scenarios) with the server under `node --cpu-prof` and prints
 * where its CPU went.
 * Exit code 1 when a check failed (a wrong result, an error); timings never fail the run.
 */
import "reflect-metadata";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs, promisify } from "node:util";
import { readMachine } from "./bench/machine";
import { createBenchDatabase } from "./bench/pg";
import { summariseProfile } from "./bench/profile-summary";
import { renderCharts } from "./bench/charts";
import { renderReport } from "./bench/report";
import type { BenchResult, Check, RelayScenarioResult } from "./bench/result";
import { runContention } from "./bench/scenario-contention";
import { runFanout } from "./bench/scenario-fanout";
import { runSlotQueries } from "./bench/scenario-slots";
import { runThroughput } from "./bench/scenario-throughput";
import { spawnServer, type ServerHandle } from "./bench/server-handle";
import { table, withDeadline } from "./bench/stats";
import { openWorld, type BenchWorld } from "./bench/world";

const SCENARIOS = ["throughput", "contention", "fanout", "slots", "relay"] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    profile: { type: "boolean", default: false },
    out: { type: "string", default: "bench/results" },
    docs: { type: "string" },
  },
});
const quick = args.quick ?? false;
const selected: Scenario[] = args.only
  ? args.only.split(",").map((s) => {
      if (!SCENARIOS.includes(s.trim() as Scenario)) throw new Error(`--only: unknown scenario ${s}; pick from ${SCENARIOS.join(", ")}`);
      return s.trim() as Scenario;
    })
  : args.profile
    ? ["throughput"]
    : [...SCENARIOS];

/** Sizes of the full run and of `--quick` (a smoke test: same checks, small counts). */
const SIZES = quick
  ? { levels: [1, 8, 32, 128], opsPerLevel: 150, warmup: 30, levelDeadlineMs: 20_000, contention: 1_000, latencySamples: 30, subscribers: 500, broadcastEvents: 2, providerSlots: 2_000, slotSamples: 30 }
  : { levels: [1, 8, 32, 128], opsPerLevel: 2_000, warmup: 200, levelDeadlineMs: 60_000, contention: 1_000, latencySamples: 300, subscribers: 10_000, broadcastEvents: 5, providerSlots: 10_000, slotSamples: 300 };
/** Bound on any one scenario (ms). */
const SCENARIO_DEADLINE_MS = quick ? 90_000 : 300_000;

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const stamp = () => new Date().toISOString().replace(/:/g, "-").replace(/\.\d+Z$/, "Z");

/** Runs `npm run bench:relay`'s compiled script as its own process and reads the JSON it wrote. */
async function runRelayBench(outDir: string): Promise<RelayScenarioResult> {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, "bench-relay.js"), ...(quick ? ["--quick"] : []), "--out", outDir], {
    env: process.env,
    timeout: SCENARIO_DEADLINE_MS * 2,
    maxBuffer: 16 * 2 ** 20,
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    // A failed check exits 1 but still writes its JSON: report it as a failed check, not a crash.
    if (err.stdout?.includes("written: ")) return { stdout: err.stdout };
    throw new Error(`bench:relay failed: ${err.message}\n${err.stderr ?? ""}`);
  });
  const file = /written: (.+\.json)/.exec(stdout)?.[1];
  if (!file) throw new Error(`bench:relay did not say where it wrote its result:\n${stdout}`);
  const json = JSON.parse(await readFile(path.resolve(file), "utf8"));
  const verified = json.relay.verified && json.latency.missing === 0 && json.latency.failedBookings === 0;
  return { file, verified, raw: json.raw, relay: json.relay, ratio: json.ratio, latency: json.latency };
}

async function main(): Promise<number> {
  const started = new Date();
  const loadAtStart = os.loadavg();
  const database = await createBenchDatabase();
  const outDir = path.resolve(args.out!);
  await mkdir(outDir, { recursive: true });
  const runStamp = stamp();
  const profileDir = args.profile ? path.resolve("bench/profiles", runStamp) : undefined;
  const jwtSecret = randomBytes(32).toString("hex");
  const serverEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: database.url,
    DATABASE_POOL_MAX: "20",
    REDIS_URL,
    JWT_SECRET: jwtSecret,
    ACCESS_TOKEN_TTL_SECONDS: "3600",
    // Measured separately (scenario 5); no SQS is configured for this server anyway.
    OUTBOX_RELAY: "off",
    // Expiry and reminder sweeps would add background load unrelated to the figures.
    WORKERS: "off",
    // Every simulated client connects from 127.0.0.1: the per-address socket cap would refuse the
    // fan-out scenario's thousands of subscribers.
    WS_MAX_CONNECTIONS_PER_CLIENT: "1000000",
    LOG_LEVEL: "warn",
  };
  const result: BenchResult = {
    startedAt: started.toISOString(),
    finishedAt: "",
    mode: quick ? "quick" : "full",
    machine: await readMachine(database.serverVersion, REDIS_URL, loadAtStart),
    scenarioSeconds: {},
    checks: [],
  };
  const check = (c: Check) => {
    result.checks.push(c);
    process.stderr.write(`  check ${c.ok ? "ok" : "FAILED"}: ${c.name}: ${c.detail}\n`);
  };
  let server: ServerHandle | undefined;
  let world: BenchWorld | undefined;
  try {
    const needsServer = selected.some((s) => s !== "relay");
    if (needsServer) {
      server = await spawnServer(serverEnv, { cpuProfileDir: profileDir });
      world = await openWorld(database.url, REDIS_URL, jwtSecret, 20);
    }
    const timed = async <T>(name: Scenario, run: () => Promise<T>): Promise<T | undefined> => {
      if (!selected.includes(name)) return undefined;
      process.stderr.write(`scenario ${name}...\n`);
      const t0 = performance.now();
      try {
        return await withDeadline(name, SCENARIO_DEADLINE_MS, run());
      } catch (err) {
        check({ name, ok: false, detail: `crashed: ${err instanceof Error ? err.message : String(err)}` });
        return undefined;
      } finally {
        result.scenarioSeconds[name] = Math.round((performance.now() - t0) / 100) / 10;
      }
    };

    result.throughput = await timed("throughput", () =>
      runThroughput(world!, server!.url, database.url, { ...SIZES, httpOnly: args.profile }),
    );
    if (result.throughput) check({ name: "throughput: every booking once, none failed", ok: result.throughput.verified, detail: result.throughput.detail });

    result.contention = await timed("contention", () => runContention(world!, server!.url, database.url, { calls: SIZES.contention, deadlineMs: 60_000 }));
    if (result.contention) {
      const c = result.contention;
      check({ name: "contention: exactly one booking, every other call CONFLICT", ok: c.verified, detail: `${c.bookingsInDatabase} in the database, ${c.winners} winners, ${c.conflicts} CONFLICT, ${c.otherErrors} other` });
    }

    result.fanout = await timed("fanout", () =>
      runFanout(world!, server!, { latencySamples: SIZES.latencySamples, subscribers: SIZES.subscribers, broadcastEvents: SIZES.broadcastEvents, deadlineMs: 60_000 }),
    );
    if (result.fanout) check({ name: "fan-out: every subscriber heard every event", ok: result.fanout.verified, detail: result.fanout.detail });

    result.slotQueries = await timed("slots", () =>
      runSlotQueries(world!, server!.url, database.url, { providerSlots: SIZES.providerSlots, bookedShare: 0.4, samples: SIZES.slotSamples, windowDays: 30 }),
    );
    if (result.slotQueries) check({ name: "slot queries: GraphQL lists the same slots as SQL", ok: result.slotQueries.verified, detail: `${result.slotQueries.slotsReturned} slots returned` });

    await world?.close();
    world = undefined;
    await server?.stop();
    server = undefined;

    // A full run keeps the relay's own JSON next to its own; smaller runs leave it in the ignored tmp/.
    const keep = !quick && !args.only;
    result.relay = await timed("relay", () => runRelayBench(keep ? outDir : path.join(outDir, "tmp")));
    if (result.relay) check({ name: "relay: every event shipped, none missing", ok: result.relay.verified, detail: result.relay.file });
  } finally {
    await world?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await database.drop().catch((err) => process.stderr.write(`could not drop ${database.name}: ${String(err)}\n`));
  }
  result.finishedAt = new Date().toISOString();
  result.machine.loadAverage.atEnd = os.loadavg().map((n) => Math.round(n * 100) / 100);

  const base = quick || args.only || args.profile ? `${runStamp}-${args.profile ? "profile" : quick ? "quick" : "partial"}` : runStamp;
  const jsonFile = path.join(outDir, `${base}.json`);
  await writeFile(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`written: ${path.relative(process.cwd(), jsonFile)}\n`);

  if (profileDir) {
    const files = (await readdir(profileDir)).filter((f) => f.endsWith(".cpuprofile"));
    for (const f of files) {
      const summary = summariseProfile(path.join(profileDir, f));
      await writeFile(path.join(profileDir, `${f}.summary.json`), `${JSON.stringify(summary, null, 2)}\n`);
      process.stdout.write(`\nCPU profile ${path.relative(process.cwd(), summary.file)}: ${summary.totalMs} ms sampled, ${(summary.idleShare * 100).toFixed(1)}% idle\n`);
      process.stdout.write(`${table([["package", "self ms", "share"], ...summary.byPackage.map((e) => [e.name, String(e.selfMs), `${(e.share * 100).toFixed(1)}%`])])}\n\n`);
      process.stdout.write(`${table([["function", "self ms", "share"], ...summary.byFunction.map((e) => [e.name, String(e.selfMs), `${(e.share * 100).toFixed(1)}%`])])}\n`);
    }
  } else {
    // A full run of every scenario is what docs/benchmarks.md shows; anything less reports next to its JSON.
    const docs = path.resolve(args.docs ?? (base === runStamp ? "docs/benchmarks.md" : path.join(outDir, `${base}.md`)));
    const chartsDir = base === runStamp && !args.docs ? path.resolve("docs/benchmarks") : path.join(path.dirname(docs), `${path.basename(docs, ".md")}-charts`);
    const files = await renderCharts(result, chartsDir);
    await mkdir(path.dirname(docs), { recursive: true });
    await writeFile(docs, renderReport(result, { dir: chartsDir, files }, docs));
    process.stdout.write(`written: ${path.relative(process.cwd(), docs)} (+ ${files.length} charts in ${path.relative(process.cwd(), chartsDir)})\n`);
  }
  for (const c of result.checks) process.stdout.write(`${c.ok ? "ok    " : "FAILED"} ${c.name}: ${c.detail}\n`);
  return result.checks.every((c) => c.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
