import { loadConfig, type Config } from "../../src/config";
import { systemClock, type Clock } from "../../src/domain/clock";
import type { Logger } from "../../src/logger";
import { startServer, type RunningServer } from "../../src/server";
import { MODE_DATABASE_URL, MODE_REDIS_URL, createPostgresDatabase, type TestDatabase } from "./backends";

/** Fixed test secret (32+ chars) so several instances accept each other's tokens. */
export const TEST_JWT_SECRET = "test-secret-test-secret-test-secret-0123456789";

export interface TestServerOptions {
  /** PostgreSQL URL; default: a fresh database in PostgreSQL mode, in-memory PGlite otherwise. */
  databaseUrl?: string;
  /** Redis URL; default: `REDIS_URL` in that mode, in-process pub/sub otherwise. Pass null to force in-process. */
  redisUrl?: string | null;
  clock?: Clock;
  env?: Record<string, string>;
  /** Logger for the server; default: one at the config's level (silent under NODE_ENV=test). */
  logger?: Logger;
}

export interface TestServer extends RunningServer {
  config: Config;
  /** The clock the server runs on (the one passed in, or the system clock). */
  clock: Clock;
  /** Stops the server and drops the database it created, if any. */
  close(): Promise<void>;
}

/** Starts a real Slotwise server on a free port of 127.0.0.1 for one test file. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  let created: TestDatabase | undefined;
  let databaseUrl = opts.databaseUrl;
  if (!databaseUrl && MODE_DATABASE_URL) {
    created = await createPostgresDatabase(MODE_DATABASE_URL);
    databaseUrl = created.url;
  }
  const redisUrl = opts.redisUrl === null ? undefined : (opts.redisUrl ?? MODE_REDIS_URL);
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    PGLITE_DIR: "memory://",
    JWT_SECRET: TEST_JWT_SECRET,
    DATABASE_POOL_MAX: "10",
    // The relay (and the embedded SQS emulator it would start) is opt-in per test file.
    OUTBOX_RELAY: "off",
    // So is the webhook delivery worker.
    WEBHOOK_DELIVERY: "off",
    // Background workers are opt-in too; worker tests drive them with a moved clock.
    WORKERS: "off",
    // Every test logs in from 127.0.0.1, and with Redis the per-client count is shared by all
    // files and runs within the window; throttling tests set their own limits.
    LOGIN_MAX_ATTEMPTS_PER_CLIENT: "1000000",
    SQS_EMULATOR_PORT: "0",
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...opts.env,
  });
  let server: RunningServer;
  try {
    server = await startServer(config, { clock: opts.clock, logger: opts.logger });
  } catch (err) {
    await created?.drop();
    throw err;
  }
  return {
    ...server,
    config,
    clock: opts.clock ?? systemClock,
    close: async () => {
      await server.stop();
      await created?.drop();
    },
  };
}
