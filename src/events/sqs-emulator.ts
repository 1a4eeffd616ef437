import type { AddressInfo } from "node:net";
import { EMULATOR_CREDENTIALS, createSqsClient, ensureQueues, type QueueUrls } from "./queue-setup";

/** A running embedded SQS emulator with the Slotwise queues created. */
export interface SqsEmulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  queueUrls: QueueUrls;
  stop(): Promise<void>;
}

/**
 * Starts the `fauxqs` SQS emulator (1.9.x: the last line that runs on Node 20) bound to
 * 127.0.0.1 only — its CLI and `startFauxqs()` bind 0.0.0.0, `buildApp().listen` does not —
 * and creates the three queues with their dead-letter twins.
 *
 * fauxqs is ESM-only and its exports map has no `require` condition, so it is loaded with a
 * real dynamic `import()` (kept as such by TypeScript's Node16 module output).
 *
 * @param port - TCP port; 0 picks a free one
 */
export async function startSqsEmulator(port: number, region: string): Promise<SqsEmulator> {
  const { buildApp } = await import("fauxqs");
  const app = buildApp({ logger: false, defaultRegion: region });
  await app.listen({ host: "127.0.0.1", port });
  const actualPort = (app.server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${actualPort}`;
  const sqs = createSqsClient({ region, endpoint, credentials: EMULATOR_CREDENTIALS });
  try {
    const queueUrls = await ensureQueues(sqs);
    return { endpoint, port: actualPort, queueUrls, stop: async () => void (await app.close()) };
  } catch (err) {
    await app.close();
    throw err;
  } finally {
    sqs.destroy();
  }
}
