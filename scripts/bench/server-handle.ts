import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";

/** A benchmark child process, driven over IPC. */
export interface ProcessHandle {
  pid: number;
  /** Heap used and RSS of the child in bytes, after a forced full GC in it. */
  memory(): Promise<{ heapUsed: number; rss: number; gcForced: boolean }>;
  /** Sends one IPC message to the child. */
  send(message: object): void;
  /** Stops the child (it closes what it holds) and waits for the process to exit. */
  stop(): Promise<void>;
}

/** The server under test (scripts/bench/server-process). */
export interface ServerHandle extends ProcessHandle {
  url: string;
  wsUrl: string;
}

/**
 * Forks a compiled script next to this file with `env` as its whole environment and waits for its
 * `{ type: "ready", ... }` message, whose fields are returned with the handle. `cpuProfileDir` runs it
 * under `--cpu-prof`; the profile is written there when `stop()` ends the process.
 * @throws when the child does not report ready within `startTimeoutMs`, or exits first
 */
export async function spawnBenchProcess<Ready extends object>(
  script: string,
  env: Record<string, string>,
  opts: { cpuProfileDir?: string; startTimeoutMs?: number } = {},
): Promise<ProcessHandle & Ready> {
  const execArgv = ["--expose-gc", ...(opts.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfileDir}`] : [])];
  const child: ChildProcess = fork(path.join(__dirname, script), [], { env, execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in time`)), opts.startTimeoutMs ?? 60_000);
    child.once("message", (m: { type: string } & Ready) => {
      clearTimeout(timer);
      if (m.type === "ready") resolve(m);
      else reject(new Error(`unexpected first message from ${script}: ${JSON.stringify(m)}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited during start-up (code ${code})`));
    });
  });

  let nextId = 0;
  return {
    ...ready,
    pid: child.pid!,
    send: (message) => child.send(message),
    memory: () =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => reject(new Error(`no memory answer from ${script}`)), 30_000);
        const onMessage = (m: { type: string; id: number; heapUsed: number; rss: number; gcForced: boolean }) => {
          if (m.type !== "memory" || m.id !== id) return;
          clearTimeout(timer);
          child.off("message", onMessage);
          resolve({ heapUsed: m.heapUsed, rss: m.rss, gcForced: m.gcForced });
        };
        child.on("message", onMessage);
        child.send({ type: "memory", id });
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts the server under test in its own process (see server-process.ts). */
export function spawnServer(env: Record<string, string>, opts: { cpuProfileDir?: string } = {}): Promise<ServerHandle> {
  return spawnBenchProcess<{ url: string; wsUrl: string }>("server-process.js", env, opts);
}

/** Answers the `memory` IPC request: heap used and RSS after two forced GCs (needs --expose-gc). */
export function answerMemoryRequest(id: number): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: the first pass may only promote what the second frees.
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  process.send?.({ type: "memory", id, heapUsed: m.heapUsed, rss: m.rss, gcForced: gc !== undefined });
}
