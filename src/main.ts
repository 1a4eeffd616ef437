import "reflect-metadata";
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";
import { startServer } from "./server";

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

  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    log.info({ signal, graceMs: config.shutdownGraceMs }, "shutting down: draining requests, closing sockets (1001), finishing worker and relay batches");
    // Past the grace period, exit anyway: a stuck dependency must not keep a pod alive forever.
    setTimeout(() => {
      log.error({ graceMs: config.shutdownGraceMs }, "shutdown grace period exceeded: exiting");
      process.exit(1);
    }, config.shutdownGraceMs).unref();
    server.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`Slotwise failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
