import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config";

/** File in the embedded data directory (`PGLITE_DIR`) holding the generated HS256 key. */
export const EMBEDDED_KEY_FILE = "slotwise-jwt.key";

/** Where the token-signing secret came from. */
export type SigningSecretSource = "JWT_SECRET" | "embedded-data-dir" | "process";

export interface SigningSecret {
  secret: string;
  source: SigningSecretSource;
  /** The key file, for `embedded-data-dir`. */
  file?: string;
}

// 256 bits, the HS256 minimum (RFC 7518 §3.2), as 64 hex characters.
const generate = () => randomBytes(32).toString("hex");
const KEY_PATTERN = /^[0-9a-f]{64}$/;

/**
 * The HS256 secret tokens are signed with.
 * - `JWT_SECRET` when set (required in production).
 * - Embedded default (no `DATABASE_URL`, `PGLITE_DIR` on disk): a key generated once and kept in
 *   `<PGLITE_DIR>/slotwise-jwt.key` (mode 0600), so a restart does not log everybody out. It lives
 *   and dies with the embedded database whose sessions it signs.
 * - Otherwise (`PGLITE_DIR=memory://`, or `DATABASE_URL` without `JWT_SECRET` outside
 *   production): random per process, kept in memory only.
 *
 * Call after the embedded database has opened (it creates the directory).
 *
 * @throws Error in production without `JWT_SECRET` (config refuses that first), or when the
 *   key file exists but does not hold a key
 */
export function resolveSigningSecret(config: Config): SigningSecret {
  if (config.jwtSecret) return { secret: config.jwtSecret, source: "JWT_SECRET" };
  if (config.isProduction) throw new Error("JWT_SECRET is required when NODE_ENV=production");
  if (config.databaseUrl || config.pgliteDir.startsWith("memory://")) return { secret: generate(), source: "process" };
  const file = path.join(config.pgliteDir, EMBEDDED_KEY_FILE);
  try {
    // "wx": only the first process creates it; a concurrent creator reads the winner's key below.
    writeFileSync(file, `${generate()}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const secret = readFileSync(file, "utf8").trim();
  if (!KEY_PATTERN.test(secret)) throw new Error(`${file} does not hold a key (64 hex characters): delete it to generate a new one (this logs everybody out)`);
  return { secret, source: "embedded-data-dir", file };
}
