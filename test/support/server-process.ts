import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { MODE_REDIS_URL } from "./backends";
import { waitFor } from "./wait";

/**
 * Slotwise as its own OS process (`node dist/src/main.js`, as `npm start` runs it), for tests
 * about what happens to the process itself: it must survive, exit, or refuse to start.
 * Needs `npm run build` first (`npm test` does it).
 */

export const ROOT = path.resolve(__dirname, "../..");
export const MAIN = path.join(ROOT, "dist/src/main.js");
export const PROCESS_JWT_SECRET = "server-process-test-secret-0123456789abcdef";

export interface ServerProcess {
  child: ChildProcess;
  /** stdout lines, parsed when they are pino JSON. */
  lines: Record<string, unknown>[];
  /** Everything written to stderr so far. */
  stderr: () => string;
  exited: Promise<number | null>;
  /** http://host:port/graphql */
  url: string;
  /** http://host:port */
  base: string;
}

export function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
}

/**
 * Spawns `node dist/src/main.js` with PORT=0 and waits for its "listening" log line (which
 * carries the real URL). `env` is added to a minimal development environment.
 */
export async function startMain(env: Record<string, string>, opts: { waitForListening?: boolean } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      ...{ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "development", LOG_LEVEL: "info", HOST: "127.0.0.1", PORT: "0" },
      ...{ JWT_SECRET: PROCESS_JWT_SECRET, OUTBOX_RELAY: "off", SQS_EMULATOR_PORT: "0", WORKERS: "off" },
      ...(MODE_REDIS_URL ? { REDIS_URL: MODE_REDIS_URL } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => {
    if (!l) return;
    try {
      lines.push(l.startsWith("{") ? (JSON.parse(l) as Record<string, unknown>) : { msg: l });
    } catch {
      lines.push({ msg: l });
    }
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const proc: ServerProcess = { child, lines, stderr: () => stderr, exited, url: "", base: "" };
  if (opts.waitForListening === false) return proc;
  const listening = () => lines.find((l) => String(l.msg).includes("Slotwise listening on"));
  await waitFor("the server to listen", () => listening() !== undefined || child.exitCode !== null, { timeoutMs: 90_000 });
  const line = listening();
  if (!line) throw new Error(`slotwise exited with ${child.exitCode} before listening: ${stderr}`);
  const url = String(line.url);
  return Object.assign(proc, { url, base: url.replace(/\/graphql$/, "") });
}

/** Kills the process (SIGKILL) unless it has exited, and waits for it. */
export async function killProcess(p: ServerProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await p.exited;
}
