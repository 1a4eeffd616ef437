import type { AddressInfo } from "node:net";
import { GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import { EMULATOR_CREDENTIALS, QUEUE_NAMES, createSqsClient, ensureQueues, type QueueKey, type QueueUrls } from "./queue-setup";

/** A running embedded SQS emulator with the Slotwise queues created. */
export interface SqsEmulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** Queue URLs on `endpoint` itself, so any client reaches them as printed. */
  queueUrls: QueueUrls;
  /** False when this process joined an emulator another process owns (see {@link startOrJoinSqsEmulator}). */
  owned: boolean;
  /** Closes the emulator if this process owns it; a joined one is left running. */
  stop(): Promise<void>;
}

/** The embedded emulator cannot start; the message names the variable to change. */
export class SqsEmulatorPortError extends Error {
  override name = "SqsEmulatorPortError";
}

/** Response fields that carry queue URLs (CreateQueue, GetQueueUrl, ListQueues, ListDeadLetterSourceQueues). */
const QUEUE_URL_FIELDS = ["QueueUrl", "QueueUrls"] as const;

/**
 * Rewrites a queue URL onto the host the client called, e.g. `http://sqs.us-east-1.localhost:9324/0/q`
 * -> `http://127.0.0.1:9324/0/q`. fauxqs builds `sqs.<region>.<host>` URLs, and `*.localhost`
 * does not resolve everywhere; the AWS SDK v3 sends to the QueueUrl's host unless the client has
 * an explicit `endpoint`, so such URLs fail with ENOTFOUND. LocalStack and ElasticMQ
 * (`node-address.host = "*"`) answer with the caller's Host the same way. fauxqs looks queues up
 * by name when the URL's host has no `sqs.<region>.` prefix, so the rewritten URLs round-trip.
 */
export function reflectQueueUrl(url: string, requestHost: string): string {
  return url.replace(/^https?:\/\/[^/]+/, `http://${requestHost}`);
}

/**
 * Starts the `fauxqs` SQS emulator (2.x) bound to 127.0.0.1 only — its CLI and `startFauxqs()`
 * bind 0.0.0.0, `buildApp().listen` does not — and creates the three queues with their
 * dead-letter twins. Every queue URL it answers is on the host the client called (see
 * {@link reflectQueueUrl}). It accepts any credentials.
 *
 * fauxqs is ESM-only and its exports map has only an `import` condition (no `require`, so
 * Node 24's require(esm) cannot resolve it): it is loaded with a real dynamic `import()`, kept
 * as such by TypeScript's Node16 module output.
 *
 * @param port - TCP port; 0 picks a free one
 * @throws SqsEmulatorPortError when the port is taken (the message names `SQS_EMULATOR_PORT`)
 */
export async function startSqsEmulator(port: number, region: string): Promise<SqsEmulator> {
  const { buildApp } = await import("fauxqs");
  const app = buildApp({ logger: false, defaultRegion: region });
  app.addHook("preSerialization", async (request, _reply, payload: unknown) => {
    const host = request.headers.host;
    if (!host || typeof payload !== "object" || payload === null) return payload;
    const body = payload as Record<string, unknown>;
    for (const field of QUEUE_URL_FIELDS) {
      const value = body[field];
      if (typeof value === "string") body[field] = reflectQueueUrl(value, host);
      else if (Array.isArray(value)) body[field] = value.map((v) => (typeof v === "string" ? reflectQueueUrl(v, host) : v));
    }
    return body;
  });
  try {
    await app.listen({ host: "127.0.0.1", port });
  } catch (err) {
    await app.close().catch(() => undefined);
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") throw portInUse(port);
    throw err;
  }
  const actualPort = (app.server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${actualPort}`;
  const sqs = createSqsClient({ region, endpoint, credentials: EMULATOR_CREDENTIALS });
  try {
    const queueUrls = await ensureQueues(sqs);
    return { endpoint, port: actualPort, queueUrls, owned: true, stop: async () => void (await app.close()) };
  } catch (err) {
    await app.close();
    throw err;
  } finally {
    sqs.destroy();
  }
}

function portInUse(port: number, detail = ""): SqsEmulatorPortError {
  return new SqsEmulatorPortError(
    `SQS_EMULATOR_PORT=${port}: 127.0.0.1:${port} is already in use${detail}. ` +
      "Set SQS_EMULATOR_PORT to a free port, or configure SQS (AWS_ENDPOINT_URL_SQS and the SQS_*_QUEUE_URL variables).",
  );
}

/**
 * The Slotwise queues on an SQS emulator already listening at 127.0.0.1:`port` (another
 * Slotwise process's embedded one), or undefined when nothing there answers as SQS with all
 * three queues. Bounded: a silent port fails within about 2 s.
 */
export async function findSqsEmulatorQueues(port: number, region: string): Promise<QueueUrls | undefined> {
  const endpoint = `http://127.0.0.1:${port}`;
  const sqs = createSqsClient({ region, endpoint, credentials: EMULATOR_CREDENTIALS });
  try {
    const signal = AbortSignal.timeout(2_000);
    const entries = await Promise.all(
      (Object.keys(QUEUE_NAMES) as QueueKey[]).map(async (key) => {
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE_NAMES[key] }), { abortSignal: signal });
        if (!QueueUrl) throw new Error(`no URL for ${QUEUE_NAMES[key]}`);
        return [key, QueueUrl] as const;
      }),
    );
    return Object.fromEntries(entries) as QueueUrls;
  } catch {
    return undefined;
  } finally {
    sqs.destroy();
  }
}

/**
 * Starts the embedded emulator on `port`, or, when that port is taken by an emulator that
 * already has the Slotwise queues (a second development instance beside a running
 * `npm start`), joins it: the outbox relay sends there and `stop()` leaves it running.
 *
 * @throws SqsEmulatorPortError when the port is taken by anything else (names `SQS_EMULATOR_PORT`)
 */
export async function startOrJoinSqsEmulator(port: number, region: string): Promise<SqsEmulator> {
  try {
    return await startSqsEmulator(port, region);
  } catch (err) {
    if (!(err instanceof SqsEmulatorPortError) || port === 0) throw err;
    const queueUrls = await findSqsEmulatorQueues(port, region);
    if (!queueUrls) throw portInUse(port, ", and not by an SQS emulator with the Slotwise queues");
    return { endpoint: `http://127.0.0.1:${port}`, port, queueUrls, owned: false, stop: async () => undefined };
  }
}
