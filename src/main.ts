import "reflect-metadata";
import { ConfigError, loadConfig } from "./config";
import { DataDirectoryLockedError } from "./db/data-dir-lock";
import { createLogger } from "./logger";
import { SqsEmulatorPortError } from "./events/sqs-emulator";
import { PortInUseError, startServer } from "./server";
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
  // A refusal that says what to do (a busy port, a locked data directory) needs no stack trace.
  const known = err instanceof PortInUseError || err instanceof SqsEmulatorPortError || err instanceof DataDirectoryLockedError;
  process.stderr.write(`Slotwise failed to start: ${err instanceof Error ? ((known ? undefined : err.stack) ?? err.message) : String(err)}\n`);
  process.exit(1);
});
