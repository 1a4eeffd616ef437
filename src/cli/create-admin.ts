import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { loadConfig } from "../config";
import { openDatabase } from "../db/client";
import { DataDirectoryLockedError } from "../db/data-dir-lock";
import { systemClock } from "../domain/clock";
import { DomainError } from "../domain/errors";
import { AuthService } from "../services/auth.service";
import { TokenService } from "../services/token.service";

/**
 * `npm run admin:create -- --email admin@example.com --password '...' [--name 'Ops']`
 *
 * Creates an ADMIN account (or promotes an existing one and resets its password) in the
 * configured database (`DATABASE_URL`, or the embedded PGlite at `PGLITE_DIR`). ADMIN can
 * never be self-assigned through `register`; this and `ADMIN_EMAIL`/`ADMIN_PASSWORD` are the ways in.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { email: { type: "string" }, password: { type: "string" }, name: { type: "string" } } });
  if (!values.email || !values.password) {
    process.stderr.write("usage: npm run admin:create -- --email <email> --password <password> [--name <name>]\n");
    process.exit(2);
  }
  const config = loadConfig(undefined, { role: "tool" });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, poolMax: 1 });
  try {
    await database.migrate();
    // No tokens are issued here; the key only satisfies the service's constructor.
    const auth = new AuthService(database.db, new TokenService(randomBytes(32).toString("hex"), 60), systemClock, config.refreshTokenTtlDays);
    const user = await auth.ensureAdmin(values.email, values.password, values.name);
    process.stdout.write(`admin ${user.email} (${user.id}) is ready\n`);
  } catch (err) {
    if (err instanceof DomainError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    } else throw err;
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof DataDirectoryLockedError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
