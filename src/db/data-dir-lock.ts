import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import lockfile from "proper-lockfile";

/**
 * PGlite is one PostgreSQL backend inside one process: two processes on one data directory
 * each keep their own copy in memory and overwrite each other's writes. Every process that opens
 * an embedded data directory (server, CLI, consumer) takes this exclusive lock first.
 *
 * The lock is proper-lockfile's: an atomic `mkdir` of `<dir>.lock`, whose mtime the holder
 * refreshes every {@link LOCK_UPDATE_MS}; a lock not refreshed for {@link LOCK_STALE_MS} is
 * stale. Beside it, `<dir>.lock.owner` names the holder's pid, so a lock left by a process that
 * died (SIGKILL, a crash) is taken over at once instead of after the stale time.
 */
export const LOCK_STALE_MS = 60_000;
export const LOCK_UPDATE_MS = 5_000;

/** Another live process holds the embedded data directory. */
export class DataDirectoryLockedError extends Error {
  constructor(
    readonly directory: string,
    readonly ownerPid: number | undefined,
  ) {
    super(
      `The embedded database directory ${directory} is in use by another Slotwise process${ownerPid ? ` (pid ${ownerPid})` : ""}. ` +
        "PGlite allows one process per data directory, and a second one would lose writes. " +
        "Stop the other process (e.g. the running `npm start`) and run this again, or give this process its own directory with PGLITE_DIR, " +
        "or set DATABASE_URL to share a PostgreSQL database between processes.",
    );
    this.name = "DataDirectoryLockedError";
  }
}

function ownerFile(dir: string): string {
  return `${dir}.lock.owner`;
}

function readOwnerPid(dir: string): number | undefined {
  try {
    const pid = Number((JSON.parse(readFileSync(ownerFile(dir), "utf8")) as { pid?: unknown }).pid);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True unless the OS says no process has that pid (EPERM: it exists, run by another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * Takes the exclusive lock on an existing embedded data directory, refusing at once when a live
 * process holds it.
 *
 * @param onLost - called if the lock is lost while held (its refresh failed, or another process
 *   took it over after the process stalled for {@link LOCK_STALE_MS}); the caller must stop
 *   writing. Default: throw, which ends the process.
 * @returns the release function (idempotent)
 * @throws DataDirectoryLockedError when another live process holds it
 */
export async function lockDataDirectory(dataDir: string, onLost?: (err: Error) => void): Promise<() => Promise<void>> {
  const dir = path.resolve(dataDir);
  const lockPath = `${dir}.lock`;
  const options = {
    lockfilePath: lockPath,
    stale: LOCK_STALE_MS,
    update: LOCK_UPDATE_MS,
    realpath: false,
    retries: 0,
    onCompromised:
      onLost ??
      ((err: Error) => {
        throw new Error(`lost the lock on the embedded database directory ${dir} (${err.message}); stopping so that two processes never write it`);
      }),
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ELOCKED") throw err;
    const owner = readOwnerPid(dir);
    if (owner === undefined || owner === process.pid || isAlive(owner)) throw new DataDirectoryLockedError(dir, owner);
    // Its holder died without releasing it: take it over (mkdir stays the arbiter if two try).
    rmSync(lockPath, { recursive: true, force: true });
    try {
      release = await lockfile.lock(dir, options);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === "ELOCKED") throw new DataDirectoryLockedError(dir, readOwnerPid(dir));
      throw again;
    }
  }
  writeFileSync(ownerFile(dir), JSON.stringify({ pid: process.pid, since: new Date().toISOString() }) + "\n");
  let released: Promise<void> | undefined;
  return () =>
    (released ??= (async () => {
      rmSync(ownerFile(dir), { force: true });
      await release().catch(() => undefined);
    })());
}
