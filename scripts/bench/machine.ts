import os from "node:os";
import Redis from "ioredis";
import type { Machine } from "./result";

/** The machine's facts for the report: cores, memory, Node, and the PostgreSQL and Redis versions the run talks to. */
export async function readMachine(postgresVersion: string, redisUrl: string, loadAtStart: number[]): Promise<Machine> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let redisVersion = "unknown";
  try {
    await redis.connect();
    redisVersion = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "unknown";
  } finally {
    redis.disconnect();
  }
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    postgres: postgresVersion,
    redis: redisVersion,
    loadAverage: { atStart: loadAtStart.map(round), atEnd: [] },
  };
}
