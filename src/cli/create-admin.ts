import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { loadConfig } from "../config";
import { openDatabase } from "../db/client";
import { DataDirectoryLockedError } from "../db/data-dir-lock";
import { systemClock } from "../domain/clock";
import { DomainError } from "../domain/errors";
import { ALL_SESSIONS, type LivePubSub } from "../events/pubsub";
import { createRedisPubSub } from "../events/redis-pubsub";
import { AuthService, type RevocationPublisher } from "../services/auth.service";
import { TokenService } from "../services/token.service";

const USAGE = "usage: npm run admin:create -- --email <email> --password <password> [--name <name>] [--promote]\n";

const SAID: Record<string, string> = {
  CREATED: "created",
  UNCHANGED: "already exists with this password; nothing changed",
  PASSWORD_RESET: "existed; its password was reset",
  PROMOTED: "existed; it was promoted to ADMIN with the new password",
};

/**
 * `npm run admin:create -- --email admin@example.com --password '...' [--name 'Ops'] [--promote]`
 *
 * Creates an ADMIN account in the configured database (`DATABASE_URL`, or the embedded PGlite at
 * `PGLITE_DIR`). ADMIN can never be self-assigned through `register`; this and
 * `ADMIN_EMAIL`/`ADMIN_PASSWORD` are the ways in. An existing CUSTOMER or PROVIDER with that
 * email is refused (exit 1) unless `--promote`: anyone may have registered the address first.
 * When the command changes an account's role or password, every session of it is revoked; with
 * `REDIS_URL` set, running servers also close that account's open sockets at once.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { email: { type: "string" }, password: { type: "string" }, name: { type: "string" }, promote: { type: "boolean" } } });
  if (!values.email || !values.password) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const config = loadConfig(undefined, { role: "tool" });
  // Two connections: on PostgreSQL `migrate()` holds one for its advisory lock while the
  // migrator runs on another; with a pool of one it waited forever.
  const database = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, poolMax: 2 });
  let pubSub: LivePubSub | undefined;
  try {
    await database.migrate();
    if (config.redisUrl) {
      pubSub = (await createRedisPubSub(config.redisUrl, (err) => process.stderr.write(`redis: ${err.message}\n`), config.redisCommandTimeoutMs)).pubSub;
    }
    const live = pubSub;
    const revocations: RevocationPublisher | undefined = live && {
      publishRevocation: (message) =>
        live.publishTopic("SESSION_REVOCATIONS", ALL_SESSIONS, message).catch((err: Error) => {
          process.stderr.write(`warning: could not tell running servers (${err.message}); open sockets close at their next operation\n`);
        }),
    };
    // No tokens are issued here; the key only satisfies the service's constructor.
    const auth = new AuthService({
      db: database.db,
      tokens: new TokenService(randomBytes(32).toString("hex"), 60),
      clock: systemClock,
      refreshTtlDays: config.refreshTokenTtlDays,
      revocations,
    });
    const { user, outcome, revokedSessions } = await auth.ensureAdmin(values.email, values.password, { name: values.name, promote: values.promote });
    const revoked = revokedSessions > 0 ? `; ${revokedSessions} session(s) revoked` : "";
    process.stdout.write(`admin ${user.email} (${user.id}) ${SAID[outcome]}${revoked}\n`);
  } catch (err) {
    if (err instanceof DomainError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    } else throw err;
  } finally {
    await pubSub?.close();
    await database.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof DataDirectoryLockedError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
