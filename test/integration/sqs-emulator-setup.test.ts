import { execFile } from "node:child_process";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import type { Logger } from "../../src/logger";
import { startTestServer, type TestServer } from "../support/test-server";
import { addSlots, bookSlot, createProvider, registerUser } from "../support/factories";

/**
 * What a new user meets with no SQS configured: the embedded emulator's printed queue URLs work
 * as printed for a plain AWS SDK v3 client; a busy `PORT` or `SQS_EMULATOR_PORT` is named; a
 * second development instance uses the emulator the first one runs; an SQS endpoint without
 * queue URLs is warned about. Both modes (in PostgreSQL mode a second instance shares the
 * first one's database, as two `npm start` on one DATABASE_URL would).
 */

const root = path.resolve(__dirname, "../..");
const run = promisify(execFile);

/** A logger that keeps every JSON line it writes. */
function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function listenHttp(port = 0): Promise<Server> {
  const s = createHttpServer((_req, res) => res.writeHead(404).end("not SQS"));
  await new Promise<void>((resolve) => s.listen(port, "127.0.0.1", resolve));
  return s;
}

const closeHttp = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

/**
 * A consumer as the AWS SDK v3 guide writes it, configured only by its environment (region and
 * dummy credentials, no endpoint): it long-polls QUEUE_URL until a message for EXPECT_BOOKING
 * arrives and prints that message's body.
 */
const PLAIN_CONSUMER = `
const { SQSClient, ReceiveMessageCommand, DeleteMessageCommand } = require("@aws-sdk/client-sqs");
const sqs = new SQSClient({});
(async () => {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: process.env.QUEUE_URL, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
    for (const m of Messages) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: process.env.QUEUE_URL, ReceiptHandle: m.ReceiptHandle }));
      if (JSON.parse(m.Body).bookingId === process.env.EXPECT_BOOKING) { process.stdout.write(m.Body); process.exit(0); }
    }
  }
  process.stderr.write("no message for " + process.env.EXPECT_BOOKING);
  process.exit(3);
})().catch((err) => { process.stderr.write((err.code || err.name) + ": " + err.message); process.exit(1); });
`;

async function plainConsumerReceives(queueUrl: string, bookingId: string, extraEnv: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ["-e", PLAIN_CONSUMER], {
    cwd: root,
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      QUEUE_URL: queueUrl,
      EXPECT_BOOKING: bookingId,
      ...extraEnv,
    },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

async function bookOnce(url: string): Promise<string> {
  const owner = await registerUser(url, "PROVIDER");
  const provider = await createProvider(url, owner, { requiresConfirmation: true });
  const [slot] = await addSlots(url, owner, provider.id, { count: 1 });
  const customer = await registerUser(url, "CUSTOMER");
  return (await bookSlot(url, customer, slot!.id)).id;
}

const RELAY_ENV = { OUTBOX_RELAY: "on", OUTBOX_RELAY_POLL_MS: "100" };

describe("the embedded SQS emulator as a new user meets it", () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    // Newest first: a joining instance stops before the one that owns the emulator.
    for (const s of servers.splice(0).reverse()) await s.close();
  });

  test("the queue URLs printed at start work as printed for a plain AWS SDK v3 consumer", async () => {
    const { log, lines } = capturingLogger();
    const server = await startTestServer({ env: { ...RELAY_ENV, SQS_EMULATOR_PORT: String(await freePort()) }, logger: log });
    servers.push(server);
    const printed = lines.find((l) => String(l.msg).startsWith("embedded SQS emulator on"));
    expect(printed).toBeDefined();
    const queues = printed!.queues as Record<string, string>;
    for (const url of Object.values(queues)) expect(new URL(url).hostname).toBe("127.0.0.1");
    expect(printed!.credentials).toContain("AWS_ACCESS_KEY_ID=local");

    const bookingId = await bookOnce(server.url);
    expect(await plainConsumerReceives(queues.bookingRequest!, bookingId)).toMatchObject({ eventType: "BOOKING_CREATED", bookingId });
    // The same consumer with the endpoint in its environment too (AWS_ENDPOINT_URL_SQS).
    const second = await bookOnce(server.url);
    const endpoint = new URL(queues.bookingEvents!).origin;
    expect(await plainConsumerReceives(queues.bookingEvents!, second, { AWS_ENDPOINT_URL_SQS: endpoint })).toMatchObject({ bookingId: second });
  });

  test("a second instance with no SQS configured sends to the emulator the first one runs on SQS_EMULATOR_PORT", async () => {
    const port = String(await freePort());
    const first = await startTestServer({ env: { ...RELAY_ENV, SQS_EMULATOR_PORT: port } });
    servers.push(first);
    const { log, lines } = capturingLogger();
    const second = await startTestServer({
      env: { ...RELAY_ENV, SQS_EMULATOR_PORT: port },
      // Two `npm start` on one PostgreSQL: the second shares the first one's database.
      ...(first.config.databaseUrl ? { databaseUrl: first.config.databaseUrl } : {}),
      logger: log,
    });
    servers.push(second);
    expect(first.relay!.emulator!.owned).toBe(true);
    expect(second.relay!.emulator).toMatchObject({ owned: false, queueUrls: first.relay!.emulator!.queueUrls });
    expect(lines.some((l) => String(l.msg).includes(`SQS_EMULATOR_PORT ${port} already has a Slotwise SQS emulator`))).toBe(true);

    const bookingId = await bookOnce(second.url);
    expect(await plainConsumerReceives(first.relay!.emulator!.queueUrls.bookingRequest, bookingId)).toMatchObject({ bookingId });

    // Stopping the second instance leaves the first one's emulator running.
    await servers.pop()!.close();
    const again = await bookOnce(first.url);
    expect(await plainConsumerReceives(first.relay!.emulator!.queueUrls.bookingRequest, again)).toMatchObject({ bookingId: again });
  });

  test("SQS_EMULATOR_PORT taken by something that is not an SQS emulator refuses to start, naming the variable", async () => {
    const squatter = await listenHttp();
    try {
      const port = (squatter.address() as { port: number }).port;
      await expect(startTestServer({ env: { ...RELAY_ENV, SQS_EMULATOR_PORT: String(port) } })).rejects.toThrow(
        `SQS_EMULATOR_PORT=${port}: 127.0.0.1:${port} is already in use, and not by an SQS emulator with the Slotwise queues`,
      );
    } finally {
      await closeHttp(squatter);
    }
  });

  test("a busy PORT refuses to start, naming the variable", async () => {
    const squatter = await listenHttp();
    try {
      const port = (squatter.address() as { port: number }).port;
      await expect(startTestServer({ env: { PORT: String(port) } })).rejects.toThrow(`PORT=${port}: 127.0.0.1:${port} is already in use`);
    } finally {
      await closeHttp(squatter);
    }
  });

  test("AWS_ENDPOINT_URL_SQS without any queue URL is warned about at start", async () => {
    const { log, lines } = capturingLogger();
    const server = await startTestServer({ env: { ...RELAY_ENV, AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:1" }, logger: log });
    servers.push(server);
    const warning = lines.find((l) => l.level === 40 && String(l.msg).startsWith("AWS_ENDPOINT_URL_SQS is set"));
    expect(warning?.msg).toContain("no queue URL is: events go to no queue");
    expect(warning?.msg).toContain("SQS_BOOKING_REQUEST_QUEUE_URL");
  });
});
