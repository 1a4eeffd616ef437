import "reflect-metadata";
import { ConfigError, loadConfig } from "./config";
import { DataDirectoryLockedError } from "./db/data-dir-lock";
import { createLogger } from "./logger";
import { startServer } from "./server";
import { exitGracefullyOnSignals } from "./shutdown-signals";

/** Process entry point: `npm start`. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const server = await startServer(config, { logger: log });
  log.info(
    { url: server.url, ws: server.wsUrl, database: server.database.kind, pubsub: config.redisUrl ? "redis" : "memory" },
    `Slotwise listening on ${server.url}`,
  );

  exitGracefullyOnSignals({
    log,
    stop: () => server.stop(),
    graceMs: config.shutdownGraceMs,
    message: "shutting down: draining requests, closing sockets (1001), finishing worker and relay batches",
  });
}

main().catch((err) => {
  // A refusal that says what to do needs no stack trace.
  const detail = err instanceof DataDirectoryLockedError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`Slotwise failed to start: ${detail}\n`);
  process.exit(1);
});
