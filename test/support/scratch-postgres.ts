import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * A PostgreSQL cluster of a test's own (initdb in a temporary directory, a free port, run as
 * the `postgres` OS user through runuser), which the test may stop and start at will: the
 * shared cluster must never be restarted. Needs root and the Debian PostgreSQL 15 binaries.
 */
export const PG_BIN = process.env.TEST_PG_BIN || "/usr/lib/postgresql/15/bin";

export interface ScratchPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** Stops the server at once (`pg_ctl stop -m immediate`): every connection drops. */
  stop(): void;
  /** Starts it again on the same port and waits until it accepts connections. */
  start(): void;
  /** Stops it and removes its directory. */
  destroy(): void;
}

/** Why a scratch cluster cannot run here, or undefined when it can. */
export function scratchPostgresUnsupported(): string | undefined {
  if (process.getuid?.() !== 0) return "not running as root (runuser needs it)";
  if (!existsSync(path.join(PG_BIN, "initdb"))) return `no initdb in ${PG_BIN}`;
  if (spawnSync("id", ["-u", "postgres"]).status !== 0) return "no postgres OS user";
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Creates and starts a scratch cluster (trust authentication, fsync off: test data only). */
export async function createScratchPostgres(): Promise<ScratchPostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), "slotwise-pg-"));
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  chownSync(dir, uid, gid);
  const data = path.join(dir, "data");
  const asPostgres = (bin: string, args: string[]) =>
    execFileSync("runuser", ["-u", "postgres", "--", path.join(PG_BIN, bin), ...args], { stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
  asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const start = () => asPostgres("pg_ctl", ["-D", data, "-o", options, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"]);
  const stop = () => asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "-t", "60", "stop"]);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    destroy: () => {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
