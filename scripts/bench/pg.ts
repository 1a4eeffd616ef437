import { randomBytes } from "node:crypto";
import postgres from "postgres";

/** The server the benchmark uses: the test suite's variables, then the app's, then the local default. */
export const BENCH_POSTGRES_URL = process.env.TEST_POSTGRES_URL || process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

/** A throwaway database for one run; `drop()` removes it even with connections left open. */
export interface BenchDatabase {
  url: string;
  name: string;
  serverVersion: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(baseUrl = BENCH_POSTGRES_URL): Promise<BenchDatabase> {
  const name = `slotwise_bench_${randomBytes(5).toString("hex")}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  let serverVersion: string;
  try {
    const [row] = await admin<{ server_version: string }[]>`show server_version`;
    serverVersion = row!.server_version;
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    serverVersion,
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
