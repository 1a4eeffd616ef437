import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { MODE_DATABASE_URL, createPostgresDatabase, type TestDatabase } from "../support/backends";
import { sampleEvent, useEmulator, waitUntilDrained } from "../support/consumer-world";
import type { BookingEventEnvelope } from "../../src/events/envelope";
import { waitFor } from "../support/wait";

/**
 * `npm run consumer -- provider|customer` as a real process against the embedded emulator an
 * `npm start` would run (here: started by the test, with the default queue names), found
 * through SQS_EMULATOR_PORT. The processed-event store is PGlite under CONSUMER_STATE_DIR, or a
 * fresh PostgreSQL database in PostgreSQL mode.
 */

const root = path.resolve(__dirname, "../..");
// Each test starts TypeScript consumer processes (tsx + database start-up) on a shared 2-core machine.
const CLI_TEST_TIMEOUT_MS = 180_000;

interface CliProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
  stderr(): string;
}

function runConsumerCli(name: string, env: Record<string, string>, quiet = false): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/consumer.ts", name], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "development", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  let buffered = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    for (const l of parts.filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      if (code !== 0 && stderr && !quiet) console.error(`consumer ${name} stderr:\n${stderr}`);
      resolve(code);
    }),
  );
  return { child, lines, exited, stderr: () => stderr };
}

function notifications(cli: CliProcess): { recipient: string; eventId: string; eventType: string }[] {
  return cli.lines.flatMap((l) => (l.notification ? [l.notification as { recipient: string; eventId: string; eventType: string }] : []));
}

async function send(sqs: SQSClient, queueUrl: string, event: BookingEventEnvelope): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }));
}

describe("npm run consumer (CLI process)", () => {
  const { emulator, sqs } = useEmulator();
  let stateDir: string;
  let pg: TestDatabase | undefined;
  let env: Record<string, string>;
  const started: CliProcess[] = [];

  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(tmpdir(), "slotwise-consumers-"));
    pg = MODE_DATABASE_URL ? await createPostgresDatabase(MODE_DATABASE_URL) : undefined;
    env = { SQS_EMULATOR_PORT: String(emulator().port), CONSUMER_STATE_DIR: stateDir, ...(pg ? { DATABASE_URL: pg.url } : {}) };
  });
  afterEach(async () => {
    for (const cli of started.splice(0)) {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
      await cli.exited;
    }
  });
  afterAll(async () => {
    await pg?.drop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  function start(name: string, extraEnv: Record<string, string> = {}, quiet = false): CliProcess {
    const cli = runConsumerCli(name, { ...env, ...extraEnv }, quiet);
    started.push(cli);
    return cli;
  }

  async function listening(cli: CliProcess): Promise<Record<string, unknown>> {
    await waitFor("the consumer reports where it listens", () => cli.lines.some((l) => String(l.msg).includes("listening on")) || cli.child.exitCode !== null, { timeoutMs: 60_000 });
    const line = cli.lines.find((l) => String(l.msg).includes("listening on"));
    if (!line) throw new Error(`consumer exited with ${cli.child.exitCode} before listening`);
    return line;
  }

  test("provider: prints a notification for a BOOKING_CREATED, exits 0 on SIGTERM, and after a restart does not notify the same event again", async () => {
    const queueUrl = emulator().queueUrls.bookingRequest;
    const first = start("provider");
    expect(await listening(first)).toMatchObject({
      queueUrl,
      sqs: "embedded-emulator",
      processedEventStore: pg ? "DATABASE_URL" : `PGlite ${stateDir}/provider`,
    });
    const event = sampleEvent("BOOKING_CREATED");
    await send(sqs(), queueUrl, event);
    await waitFor("a provider notification line", () => notifications(first).length > 0);
    expect(notifications(first)).toEqual([expect.objectContaining({ recipient: "provider", eventId: event.eventId, eventType: "BOOKING_CREATED" })]);
    await waitUntilDrained(sqs(), queueUrl);

    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(first.lines.some((l) => l.msg === "consumer stopped")).toBe(true);

    const second = start("provider");
    await listening(second);
    const fresh = sampleEvent("BOOKING_CREATED");
    await send(sqs(), queueUrl, event);
    await send(sqs(), queueUrl, fresh);
    await waitFor("the new event is notified", () => notifications(second).some((n) => n.eventId === fresh.eventId));
    await waitUntilDrained(sqs(), queueUrl);
    expect(notifications(second).map((n) => n.eventId)).toEqual([fresh.eventId]);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, CLI_TEST_TIMEOUT_MS);

  test("customer: prints a notification for every booking event from the events queue, and none for a type it does not know", async () => {
    const queueUrl = emulator().queueUrls.bookingEvents;
    const cli = start("customer");
    expect(await listening(cli)).toMatchObject({ queueUrl, notifier: "log" });
    const events = (["BOOKING_CREATED", "BOOKING_CONFIRMED", "BOOKING_REJECTED", "BOOKING_CANCELLED", "BOOKING_EXPIRED"] as const).map((t) => sampleEvent(t));
    for (const e of events) await send(sqs(), queueUrl, e);
    const unknown = { ...sampleEvent("BOOKING_CREATED"), eventType: "WAITLIST_OFFER_MADE" } as unknown as BookingEventEnvelope;
    await send(sqs(), queueUrl, unknown);

    await waitFor("five customer notifications", () => notifications(cli).length >= 5);
    await waitUntilDrained(sqs(), queueUrl);
    const expected = events.map((e) => ({ recipient: "customer", eventId: e.eventId, eventType: e.eventType }));
    const got = notifications(cli).map((n) => ({ recipient: n.recipient, eventId: n.eventId, eventType: n.eventType }));
    expect(got.sort((a, b) => a.eventId.localeCompare(b.eventId))).toEqual(expected.sort((a, b) => a.eventId.localeCompare(b.eventId)));
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  }, CLI_TEST_TIMEOUT_MS);

  test("with SMTP_URL it e-mails, which needs the API's database: without DATABASE_URL it refuses to start", async () => {
    const mail = { SMTP_URL: "smtp://127.0.0.1:1", MAIL_FROM: "bookings@slotwise.test" };
    if (pg) {
      const cli = start("customer", mail);
      expect(await listening(cli)).toMatchObject({ notifier: "smtp" });
      cli.child.kill("SIGTERM");
      expect(await cli.exited).toBe(0);
    } else {
      const cli = start("customer", mail, true);
      expect(await cli.exited).toBe(1);
      expect(cli.stderr()).toMatch(/SMTP_URL is set but DATABASE_URL is not/);
    }
  }, CLI_TEST_TIMEOUT_MS);
});
