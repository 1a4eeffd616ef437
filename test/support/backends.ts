import { randomBytes } from "node:crypto";
import postgres from "postgres";
import Redis from "ioredis";

/**
 * Which real services the suite talks to.
 *
 * - `DATABASE_URL` / `REDIS_URL` set (the second pass of `.ci/run`): every server a test
 *   starts uses PostgreSQL (a fresh database per test file) and Redis.
 * - unset (`npm test` on a bare machine): servers use embedded PGlite and in-process pub/sub.
 *
 * Tests that need real concurrency or Redis always use `TEST_POSTGRES_URL` / `TEST_REDIS_URL`
 * (default: this machine's local services). They are skipped with a warning when those are
 * unreachable, unless `REQUIRE_SERVICES=1` (set by `.ci/run`), where that is a failure.
 */
export const MODE_DATABASE_URL = process.env.DATABASE_URL || undefined;
export const MODE_REDIS_URL = process.env.REDIS_URL || undefined;
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL || MODE_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.TEST_REDIS_URL || MODE_REDIS_URL || "redis://127.0.0.1:6379";
const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === "1";

/** A throwaway PostgreSQL database; `drop()` removes it (forcefully closing leftovers). */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the server of `baseUrl`, named `slotwise_test_<random>`. */
export async function createPostgresDatabase(baseUrl = POSTGRES_URL): Promise<TestDatabase> {
  const name = `slotwise_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgres(baseUrl, { max: 1, onnotice: () => undefined });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

async function reachable(check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

export function postgresReachable(): Promise<boolean> {
  return reachable(async () => {
    const sql = postgres(POSTGRES_URL, { max: 1, connect_timeout: 3, onnotice: () => undefined });
    try {
      await sql`select 1`;
    } finally {
      await sql.end();
    }
  });
}

export function redisReachable(): Promise<boolean> {
  return reachable(async () => {
    const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await r.connect();
      await r.ping();
    } finally {
      r.disconnect();
    }
  });
}

/**
 * Resolves to true when `service` is reachable. When it is not: throws under
 * `REQUIRE_SERVICES=1`, else warns and resolves false so the caller can skip.
 */
export async function requireService(service: "postgres" | "redis"): Promise<boolean> {
  const ok = service === "postgres" ? await postgresReachable() : await redisReachable();
  if (ok) return true;
  const msg = `${service} is not reachable at ${service === "postgres" ? POSTGRES_URL : REDIS_URL}`;
  if (REQUIRE_SERVICES) throw new Error(`${msg} (REQUIRE_SERVICES=1)`);
  console.warn(`SKIPPED: ${msg}; these tests need it.`);
  return false;
}
