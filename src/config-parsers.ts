import { z } from "zod";

/**
 * Parsers of single configuration values (URLs, durations, origins, `TRUST_PROXY`) and the rules
 * across variables, for the environment schema in src/config.ts.
 */
export const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

/**
 * An optional URL whose scheme must be one of `protocols` (WHATWG URL parsing, so
 * `localhost:5432` is refused: it parses as the scheme `localhost:`). The message shows the
 * expected form and never echoes the value, which may hold a password.
 */
function urlOf(protocols: readonly string[], form: string) {
  return optionalString.superRefine((v, ctx) => {
    if (v === undefined) return;
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: "custom", message: `is not a URL; expected ${form}` });
      return;
    }
    if (!protocols.includes(url.protocol)) {
      ctx.addIssue({ code: "custom", message: `has scheme "${url.protocol}"; expected ${form}` });
    } else if (url.hostname === "" && !url.searchParams.has("host")) {
      ctx.addIssue({ code: "custom", message: `has no host; expected ${form}` });
    }
  });
}

export const postgresUrl = urlOf(["postgres:", "postgresql:"], "postgres://user[:password]@host[:port]/database (or postgresql://)");
export const redisUrl = urlOf(["redis:", "rediss:"], "redis://[user:password@]host[:port][/db] (or rediss://)");
export const httpUrl = urlOf(["http:", "https:"], "an http:// or https:// URL");

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `"5s"`, `"30m"`, `"2h"`, `"5d"`, `"250ms"` to milliseconds; undefined when malformed or not positive. */
export function parseDurationMs(v: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v);
  if (!m) return undefined;
  const ms = Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
  return ms > 0 ? ms : undefined;
}

/**
 * Browser origins allowed to call the API from another origin (`CORS_ORIGINS`): `"*"` for any,
 * else exact origins (`scheme://host[:port]`, as a browser serialises its `Origin` header).
 * Empty: same-origin only.
 */
export type CorsOrigins = "*" | string[];

/**
 * Parses `CORS_ORIGINS`: comma-separated origins, or `*` alone.
 *
 * @returns the origins as browsers serialise them in `Origin` (lower-case host, no default port)
 * @throws Error naming the first entry that is not an http(s) origin
 */
export function parseCorsOrigins(raw: string): CorsOrigins {
  const entries = raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (entries.includes("*")) {
    if (entries.length > 1) throw new Error("`*` (any origin) must stand alone");
    return "*";
  }
  const origins = entries.map((entry) => {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    // An origin is scheme, host and port: nothing after them but an optional "/".
    if (!url || !/^https?:$/.test(url.protocol) || url.href !== `${url.origin}/`) {
      throw new Error(`${JSON.stringify(entry)} is not an origin such as https://app.example.com (scheme, host, optional port)`);
    }
    return url.origin;
  });
  return [...new Set(origins)];
}

/**
 * Rules across variables. They run on the raw values, independently of the per-variable
 * parse, so one malformed variable never hides another missing one.
 */
export function crossVariableIssues(env: Record<string, string | undefined>, opts: { role?: "server" | "tool" }): string[] {
  const set = (name: string) => (env[name]?.trim() ?? "") !== "";
  const issues: string[] = [];
  if (env.NODE_ENV === "production") {
    if (!set("DATABASE_URL")) issues.push("DATABASE_URL: is required when NODE_ENV=production");
    if (opts.role !== "tool" && !set("JWT_SECRET")) issues.push("JWT_SECRET: is required when NODE_ENV=production");
  }
  // RFC 7518 §3.2: an HS256 key must be at least 256 bits.
  if (set("JWT_SECRET") && env.JWT_SECRET!.trim().length < 32) issues.push("JWT_SECRET: must be at least 32 characters (RFC 7518 §3.2)");
  if (set("WEBHOOK_SECRET_KEY") && env.WEBHOOK_SECRET_KEY!.trim().length < 32) issues.push("WEBHOOK_SECRET_KEY: must be at least 32 characters");
  if (set("SMTP_URL") && !set("MAIL_FROM")) issues.push("MAIL_FROM: is required when SMTP_URL is set (the sender of every e-mail)");
  if (set("ADMIN_EMAIL") !== set("ADMIN_PASSWORD")) issues.push("ADMIN_PASSWORD: ADMIN_EMAIL and ADMIN_PASSWORD must be set together");
  return issues;
}

/** `TRUST_PROXY` as Express takes it: `true`/`false`, a hop count, or addresses and subnets as given. */
export function parseTrustProxy(v: string | undefined): boolean | number | string | undefined {
  if (v === undefined) return undefined;
  if (v === "true" || v === "false") return v === "true";
  return /^\d+$/.test(v) ? Number(v) : v;
}
