/**
 * The server under test, in its own process: `startServer` exactly as `npm start` runs it,
 * plus an IPC channel the benchmark uses to ask for memory figures after a forced GC
 * (started with --expose-gc) and to stop it cleanly, so a `--cpu-prof` profile is written.
 *
 * Messages in:  { type: "memory", id }  { type: "stop" }
 * Messages out: { type: "ready", url, wsUrl }  { type: "memory", id, heapUsed, rss, gcForced } (bytes)
 *               { type: "stopped" }
 */
import "reflect-metadata";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { startServer, type RunningServer } from "../../src/server";
import { answerMemoryRequest } from "./server-handle";

type Message = { type: "memory"; id: number } | { type: "stop" };

function send(message: object): void {
  process.send?.(message);
}

async function stop(server: RunningServer): Promise<never> {
  await server.stop().catch((err) => process.stderr.write(`server stop failed: ${String(err)}\n`));
  send({ type: "stopped" });
  // process.exit (not a kill) so --cpu-prof writes its profile.
  process.exit(0);
}

async function main(): Promise<void> {
  if (!process.send) throw new Error("server-process must be started with an IPC channel (child_process.fork)");
  const config = loadConfig();
  const server = await startServer(config, { logger: createLogger(config.logLevel) });
  process.on("message", (message: Message) => {
    if (message.type === "memory") answerMemoryRequest(message.id);
    else if (message.type === "stop") {
      void stop(server);
    }
  });
  // The benchmark died without saying stop: do not outlive it.
  process.on("disconnect", () => void stop(server));
  send({ type: "ready", url: server.url, wsUrl: server.wsUrl });
}

main().catch((err) => {
  process.stderr.write(`bench server failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
