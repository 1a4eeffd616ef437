import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";

/** A running server process, driven over IPC. */
export interface ServerHandle {
  url: string;
  wsUrl: string;
  pid: number;
  /** Server heap used and RSS in bytes, after a forced full GC in the server. */
  memory(): Promise<{ heapUsed: number; rss: number; gcForced: boolean }>;
  /** Stops the server (graceful: sockets closed, pub/sub and pool closed) and waits for the process to exit. */
  stop(): Promise<void>;
}

/**
 * Forks scripts/bench/server-process.js (compiled, next to this file) with `env` as its
 * whole environment. `cpuProfileDir` starts it under `--cpu-prof`; the profile is written
 * there when `stop()` ends the process.
 * @throws when the server does not report ready within `startTimeoutMs`
 */
export async function spawnServer(env: Record<string, string>, opts: { cpuProfileDir?: string; startTimeoutMs?: number } = {}): Promise<ServerHandle> {
  const execArgv = ["--expose-gc", ...(opts.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfileDir}`] : [])];
  const child: ChildProcess = fork(path.join(__dirname, "server-process.js"), [], { env, execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const ready = await new Promise<{ url: string; wsUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the bench server did not start in time")), opts.startTimeoutMs ?? 60_000);
    child.once("message", (m: { type: string; url: string; wsUrl: string }) => {
      clearTimeout(timer);
      if (m.type === "ready") resolve(m);
      else reject(new Error(`unexpected first message from the bench server: ${JSON.stringify(m)}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the bench server exited during start-up (code ${code})`));
    });
  });

  let nextId = 0;
  return {
    ...ready,
    pid: child.pid!,
    memory: () =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => reject(new Error("no memory answer from the bench server")), 30_000);
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
