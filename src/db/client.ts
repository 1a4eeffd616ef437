import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { lockDataDirectory } from "./data-dir-lock";
import * as schema from "./schema";

// This subpath's type declarations are ESM-only, but the package ships a CommonJS build for it.
const { btree_gist } = require("@electric-sql/pglite/contrib/btree_gist") as typeof import("@electric-sql/pglite/contrib/btree_gist", {
  with: { "resolution-mode": "import" },
});

export type Schema = typeof schema;
/** A Drizzle database handle; the same type for PGlite and postgres.js. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction (or savepoint) handle. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** What repositories accept: they never open transactions themselves. */
export type DbOrTx = Db | Tx;

/** An open database with its lifecycle. */
export interface Database {
  db: Db;
  kind: "pglite" | "postgres";
  /** Applies the committed `drizzle/` migrations; safe to call from several processes at once. */
  migrate(): Promise<void>;
  /**
   * Resolves when the database answers a trivial query; rejects when it fails or takes longer
   * than `timeoutMs` (default {@link PING_TIMEOUT_MS}), so a readiness probe never hangs on an
   * unreachable server.
   */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent an embedded PGlite database is used. */
  databaseUrl?: string;
  /**
   * PGlite data directory, or `memory://`. A directory is locked for this process until
   * `close()` (see lockDataDirectory); opening one another process holds throws
   * DataDirectoryLockedError.
   */
  pgliteDir: string;
  /** postgres.js pool size. */
  poolMax: number;
  /** Called with the text of every SQL statement sent (tests count statements with it). */
  onQuery?: (sql: string) => void;
}

/** Locates the committed `drizzle/` folder whether running from `src/` or `dist/src/`. */
export function findMigrationsFolder(start = __dirname): string {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, "drizzle");
    if (existsSync(path.join(candidate, "meta", "_journal.json"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`drizzle/ migrations not found above ${start}`);
    dir = parent;
  }
}

/** Longest a {@link Database.ping} waits, in ms. */
export const PING_TIMEOUT_MS = 2_000;

function withinMs<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`the database did not answer within ${ms} ms`), { code: "CONNECT_TIMEOUT" })), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// Arbitrary constant shared by every Slotwise process: serialises concurrent migrators.
const MIGRATION_LOCK_KEY = 7_345_120_001;

/**
 * Opens PostgreSQL (postgres.js) when `databaseUrl` is set, embedded PGlite otherwise.
 * (Drivers are imported statically: a dynamic import() would load a second, ESM copy of
 * drizzle under jest, and drizzle's entity checks do not survive the dual-package split.)
 *
 * @throws DataDirectoryLockedError when another process holds the PGlite data directory; the
 *   driver's error when PGlite cannot open it
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const migrationsFolder = findMigrationsFolder();
  return options.databaseUrl ? openPostgres(options.databaseUrl, options, migrationsFolder) : openPglite(options, migrationsFolder);
}

/** PostgreSQL through a postgres.js pool of `poolMax` connections. Connects lazily, on the first query. */
function openPostgres(databaseUrl: string, options: DatabaseOptions, migrationsFolder: string): Database {
  // postgres.js 4. In 3.4.9, when PostgreSQL dropped a connection inside a transaction,
  // sql.begin still sent its ROLLBACK (or the next query) on that connection: execute() did not
  // check that closed() had set its socket to null, write() queued the bytes with setImmediate,
  // and nextWrite's `socket.write` threw a TypeError outside any promise, ending the process
  // (porsager/postgres #1066, #1154, #1208). 4.x rejects a query on a transaction whose
  // connection ended. `infer: true` keeps 3.x's typing of parameters (a Date as timestamptz,
  // and so on), which the queries here were written against.
  const client = postgres(databaseUrl, {
    max: options.poolMax,
    infer: true,
    onnotice: () => undefined,
    // Keep timestamps as Date in UTC; never depend on the server's TimeZone.
    connection: { TimeZone: "UTC", application_name: "slotwise" },
    ...(options.onQuery ? { debug: (_connection: number, query: string) => options.onQuery!(query) } : {}),
  });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    async migrate() {
      const lock = await client.reserve();
      try {
        await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migratePostgres(drizzlePostgres(client, { schema }), { migrationsFolder });
      } finally {
        await lock`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => undefined);
        lock.release();
      }
    },
    async ping(timeoutMs = PING_TIMEOUT_MS) {
      await withinMs(Promise.resolve(client`select 1`), timeoutMs);
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

/** Embedded PGlite in `pgliteDir` (locked for this process), or in memory for `memory://`. */
async function openPglite(options: DatabaseOptions, migrationsFolder: string): Promise<Database> {
  const dataDir = options.pgliteDir;
  let unlock: () => Promise<void> = async () => undefined;
  if (!dataDir.startsWith("memory://")) {
    mkdirSync(dataDir, { recursive: true });
    // Before PGlite reads anything: a second process on the directory must not even open it.
    unlock = await lockDataDirectory(dataDir);
  }
  let client: PGlite;
  try {
    client = await PGlite.create(dataDir, { extensions: { btree_gist } });
  } catch (err) {
    await unlock();
    throw err;
  }
  await client.exec("set time zone 'UTC'");
  const onQuery = options.onQuery;
  const db = drizzlePglite(client, { schema, ...(onQuery ? { logger: { logQuery: (query: string) => onQuery(query) } } : {}) }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    async migrate() {
      await migratePglite(drizzlePglite(client, { schema }), { migrationsFolder });
    },
    async ping(timeoutMs = PING_TIMEOUT_MS) {
      await withinMs(client.query("select 1"), timeoutMs);
    },
    async close() {
      try {
        await client.close();
      } finally {
        await unlock();
      }
    },
  };
}
