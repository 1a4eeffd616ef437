import { randomUUID } from "node:crypto";
import argon2 from "argon2";
import pino from "pino";
import { loadConfig } from "../../src/config";
import { createCore } from "../../src/core";
import type { Database } from "../../src/db/client";
import { sessions, users, type SlotRow } from "../../src/db/schema";
import type { LivePubSub } from "../../src/events/pubsub";
import type { Services, Viewer } from "../../src/services";
import type { TokenService } from "../../src/services/token.service";

/** Access tokens minted for the run last this long (s): longer than any run. */
export const BENCH_TOKEN_TTL_SECONDS = 3_600;

/**
 * The load generator's own view of the benchmark database: the same services the server
 * runs (same JWT secret, same Redis pub/sub), used to seed data and as the no-HTTP baseline.
 */
export interface BenchWorld {
  database: Database;
  services: Services;
  tokens: TokenService;
  pubSub: LivePubSub;
  close(): Promise<void>;
}

export async function openWorld(databaseUrl: string, redisUrl: string, jwtSecret: string, poolMax: number): Promise<BenchWorld> {
  // The server's core without its background work (the server under test runs the relay and workers).
  const config = loadConfig(
    {
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_MAX: String(poolMax),
      REDIS_URL: redisUrl,
      JWT_SECRET: jwtSecret,
      ACCESS_TOKEN_TTL_SECONDS: String(BENCH_TOKEN_TTL_SECONDS),
      OUTBOX_RELAY: "off",
      WEBHOOK_DELIVERY: "off",
      WORKERS: "off",
      LOG_LEVEL: "silent",
    },
    { role: "tool" },
  );
  // Only warnings (a lost Redis connection) reach stderr; the load generator's stdout is its report.
  const core = await createCore(config, { log: pino({ level: "warn", base: { component: "bench-world" } }, pino.destination(2)) });
  return { database: core.database, services: core.services, tokens: core.tokens, pubSub: core.pubSub, close: () => core.close() };
}

/** A seeded account and a valid access token for it. */
export interface BenchUser extends Viewer {
  token: string;
  email: string;
}

let sharedHash: Promise<string> | undefined;

/**
 * Inserts `count` accounts straight into the tables, with one session each and a signed access
 * token. Registration is skipped on purpose: argon2 costs ~0.1 s of CPU per account by design,
 * which would dominate seeding and measures nothing about booking. Every account shares one
 * real argon2 hash, so they could still log in.
 */
export async function seedUsers(world: BenchWorld, role: Viewer["role"], count: number): Promise<BenchUser[]> {
  sharedHash ??= argon2.hash(randomUUID());
  const passwordHash = await sharedHash;
  const out: BenchUser[] = [];
  const now = new Date();
  for (let i = 0; i < count; i += 500) {
    const n = Math.min(500, count - i);
    const rows = await world.database.db
      .insert(users)
      .values(Array.from({ length: n }, () => ({ email: `${role.toLowerCase()}-${randomUUID()}@bench.test`, name: `Bench ${role.toLowerCase()}`, role, passwordHash, createdAt: now })))
      .returning({ id: users.id, email: users.email, role: users.role });
    const sessionRows = await world.database.db
      .insert(sessions)
      .values(rows.map((u) => ({ userId: u.id, createdAt: now })))
      .returning({ id: sessions.id, userId: sessions.userId });
    for (const [k, u] of rows.entries()) {
      const token = await world.tokens.signAccessToken({ userId: u.id, role: u.role, sessionId: sessionRows[k]!.id }, now);
      out.push({ userId: u.id, role: u.role, email: u.email, token });
    }
  }
  return out;
}

/** A provider, its owner, and slots published through the provider service. */
export interface BenchProvider {
  id: string;
  owner: BenchUser;
  slots: SlotRow[];
}

/** Most slots one addAvailability call may create is 5,000; stay under it. */
const SLOTS_PER_CALL = 4_800;

/**
 * Creates a provider (UTC, requiring confirmation unless said otherwise) and `slotCount` back-to-back
 * slots of `slotMinutes` starting at `startsAt` (UTC, on the minute grid), published with addAvailability.
 */
export async function seedProvider(
  world: BenchWorld,
  owner: BenchUser,
  opts: { slotCount: number; slotMinutes: number; startsAt: Date; requiresConfirmation?: boolean; name?: string },
): Promise<BenchProvider> {
  const provider = await world.services.provider.createProvider(owner, {
    name: opts.name ?? "Bench provider",
    timeZone: "UTC",
    requiresConfirmation: opts.requiresConfirmation ?? true,
  });
  const slots: SlotRow[] = [];
  const slotMs = opts.slotMinutes * 60_000;
  for (let done = 0; done < opts.slotCount; done += SLOTS_PER_CALL) {
    const n = Math.min(SLOTS_PER_CALL, opts.slotCount - done);
    const startsAt = new Date(opts.startsAt.getTime() + done * slotMs);
    slots.push(...(await world.services.provider.addAvailability(owner, { providerId: provider.id, startsAt, endsAt: new Date(startsAt.getTime() + n * slotMs), slotMinutes: opts.slotMinutes })));
  }
  return { id: provider.id, owner, slots };
}

/** The next whole hour at least `hoursAhead` from now, UTC. */
export function hourFromNow(hoursAhead: number): Date {
  return new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + hoursAhead * 3_600_000);
}
