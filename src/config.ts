import { z } from "zod";

/**
 * Environment variables Slotwise reads. Names are part of the public contract
 * (see DESIGN.md, "Environment"); this module is the only reader of `process.env`.
 */
const optionalString = z
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

const postgresUrl = urlOf(["postgres:", "postgresql:"], "postgres://user[:password]@host[:port]/database (or postgresql://)");
const redisUrl = urlOf(["redis:", "rediss:"], "redis://[user:password@]host[:port][/db] (or rediss://)");
const httpUrl = urlOf(["http:", "https:"], "an http:// or https:// URL");

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `"5s"`, `"30m"`, `"2h"`, `"5d"`, `"250ms"` to milliseconds; undefined when malformed or not positive. */
function parseDurationMs(v: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v);
  if (!m) return undefined;
  const ms = Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
  return ms > 0 ? ms : undefined;
}

const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HOST: z.string().default("127.0.0.1"),
    TRUST_PROXY: optionalString,
    DATABASE_URL: postgresUrl,
    PGLITE_DIR: z.string().default(".data/pglite"),
    DATABASE_POOL_MAX: z.coerce.number().int().positive().default(20),
    REDIS_URL: redisUrl,
    REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
    ADMIN_EMAIL: optionalString,
    ADMIN_PASSWORD: optionalString,
    ADMIN_PROMOTE_EXISTING: z.enum(["true", "false"]).default("false"),
    JWT_SECRET: optionalString,
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(15 * 60),
    REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().positive().default(30),
    AWS_REGION: z.string().default("us-east-1"),
    AWS_ENDPOINT_URL_SQS: httpUrl,
    SQS_BOOKING_REQUEST_QUEUE_URL: httpUrl,
    SQS_BOOKING_CONFIRMATION_QUEUE_URL: httpUrl,
    SQS_BOOKING_EVENTS_QUEUE_URL: httpUrl,
    SQS_EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(9324),
    OUTBOX_RELAY: z.enum(["on", "off"]).default("on"),
    OUTBOX_RELAY_POLL_MS: z.coerce.number().int().min(10).default(1_000),
    CONSUMER_STATE_DIR: z.string().default(".data/consumers"),
    WORKERS: z.enum(["on", "off"]).default("on"),
    WORKER_INTERVAL_MS: z.coerce.number().int().min(10).default(5_000),
    REMINDER_OFFSETS_MINUTES: z
      .string()
      .default("1440,60")
      .transform((v, ctx) => {
        const parts = v.split(",").map((p) => p.trim()).filter(Boolean).map(Number);
        if (parts.length === 0 || parts.some((n) => !Number.isInteger(n) || n <= 0 || n > 60 * 24 * 60)) {
          ctx.addIssue({ code: "custom", message: "must be a comma-separated list of positive whole minutes (at most 60 days)" });
          return z.NEVER;
        }
        return [...new Set(parts)].sort((a, b) => b - a);
      }),
    MAX_QUERY_DEPTH: z.coerce.number().int().positive().default(10),
    MAX_QUERY_COST: z.coerce.number().int().positive().default(5_000),
    MAX_QUERY_ALIASES: z.coerce.number().int().min(0).default(30),
    MAX_DOCUMENT_BYTES: z.coerce.number().int().positive().default(20_000),
    LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: z.coerce.number().int().positive().default(10),
    LOGIN_MAX_ATTEMPTS_PER_CLIENT: z.coerce.number().int().positive().default(50),
    LOGIN_RATE_WINDOW_SECONDS: z.coerce.number().int().positive().default(900),
    WS_MAX_CONNECTIONS_PER_CLIENT: z.coerce.number().int().positive().default(50),
    WS_MAX_OPERATIONS_PER_CONNECTION: z.coerce.number().int().positive().default(100),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
    BOOKING_HOLD_MINUTES: z.coerce.number().int().positive().max(7 * 24 * 60).default(15),
    CORS_ORIGINS: z
      .string()
      .default("")
      .transform((v, ctx) => {
        try {
          return parseCorsOrigins(v);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message });
          return z.NEVER;
        }
      }),
    EVENT_RETENTION_DAYS: z.coerce.number().int().positive().max(3650).default(30),
    WEBHOOK_DELIVERY: z.enum(["on", "off"]).default("on"),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: z.enum(["true", "false"]).optional(),
    WEBHOOK_RETRY_SCHEDULE: z
      .string()
      .default("5s,5m,30m,2h,5h,10h,10h")
      .transform((v, ctx) => {
        const parts = v.split(",").map((p) => p.trim()).filter(Boolean).map(parseDurationMs);
        if (parts.length === 0 || parts.some((n) => n === undefined)) {
          ctx.addIssue({ code: "custom", message: "must be a comma-separated list of durations such as 5s,5m,2h (units ms, s, m, h, d)" });
          return z.NEVER;
        }
        return parts as number[];
      }),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(1).max(120_000).default(10_000),
    WEBHOOK_DISABLE_AFTER: z
      .string()
      .default("5d")
      .transform((v, ctx) => {
        const ms = parseDurationMs(v.trim());
        if (ms === undefined) {
          ctx.addIssue({ code: "custom", message: "must be a duration such as 5d or 12h (units ms, s, m, h, d)" });
          return z.NEVER;
        }
        return ms;
      }),
    WEBHOOK_POLL_MS: z.coerce.number().int().min(10).default(1_000),
    WEBHOOK_SECRET_KEY: optionalString,
    SMTP_URL: optionalString.refine((v) => v === undefined || /^smtps?:\/\/[^/]/.test(v), { message: "must be an smtp:// or smtps:// URL" }),
    MAIL_FROM: optionalString,
    PUBLIC_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^/]/.test(v), { message: "must be an http:// or https:// URL" }),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  });

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
function parseCorsOrigins(raw: string): CorsOrigins {
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
function crossVariableIssues(env: Record<string, string | undefined>, opts: LoadConfigOptions): string[] {
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

/** Parsed, validated configuration. Durations carry their unit in the name. */
export interface Config {
  nodeEnv: "development" | "test" | "production";
  isProduction: boolean;
  port: number;
  host: string;
  /**
   * Express `trust proxy` (from `TRUST_PROXY`: `true`, a hop count, or addresses/subnets):
   * behind a load balancer, the client address used for login throttling comes from
   * `X-Forwarded-For` only when the proxy is trusted. Unset: the socket's peer address.
   */
  trustProxy?: boolean | number | string;
  /** Browser origins allowed to call `/graphql` from another origin (`CORS_ORIGINS`); `[]`: same-origin only. */
  corsOrigins: CorsOrigins;
  /** PostgreSQL URL; undefined selects embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data directory, or `memory://` for an in-memory database. */
  pgliteDir: string;
  databasePoolMax: number;
  /** Redis URL; undefined selects in-process pub/sub. */
  redisUrl?: string;
  /**
   * Longest wait for any one Redis command (publish, throttle counters, readiness ping), in ms.
   * A Redis that stops answering with its connections open (frozen, overloaded, partitioned)
   * would otherwise hold every request that touches it until TCP gives up.
   */
  redisCommandTimeoutMs: number;
  /**
   * The admin account ensured at start-up (`ADMIN_EMAIL`, `ADMIN_PASSWORD`). `promoteExisting`
   * (`ADMIN_PROMOTE_EXISTING=true`) allows making an existing non-admin account with that email
   * ADMIN; without it start-up refuses, since anyone may have registered the address first.
   */
  admin?: { email: string; password: string; promoteExisting: boolean };
  /** HS256 secret; undefined outside production means "generate one per process". */
  jwtSecret?: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  aws: { region: string; sqsEndpoint?: string };
  queues: { bookingRequest?: string; bookingConfirmation?: string; bookingEvents?: string };
  /** Port of the embedded SQS emulator (0 = any free port); used only when no SQS is configured. */
  sqsEmulatorPort: number;
  /** True when an SQS endpoint or any queue URL is configured; otherwise the emulator is embedded. */
  sqsConfigured: boolean;
  /** Whether this process runs the outbox relay. */
  outboxRelay: boolean;
  /** Fallback poll interval of the relay, in ms (it also wakes right after each commit). */
  outboxRelayPollMs: number;
  /** Where consumers keep their processed-event store when no DATABASE_URL is set (PGlite). */
  consumerStateDir: string;
  /** Bounds on every operation, HTTP and graphql-ws alike. */
  queryLimits: { maxDepth: number; maxCost: number; maxAliases: number; maxDocumentBytes: number };
  /** Failed-login throttling: attempts per window, per account and per client address. */
  loginRateLimit: { perAccount: number; perClient: number; windowSeconds: number };
  /**
   * Bounds on live connections: open graphql-ws sockets per client address (the address as
   * `trustProxy` resolves it; more are refused at the handshake with HTTP 429), and operations
   * in flight per socket, subscriptions included (more are answered with `RATE_LIMITED`).
   */
  wsLimits: { maxConnectionsPerClient: number; maxOperationsPerConnection: number };
  /** How long shutdown waits for in-flight work before forcing, in ms. */
  shutdownGraceMs: number;
  /** Whether this process runs the hold-expiry, reminder and schedule-horizon workers. */
  workers: boolean;
  /** How often the hold-expiry and reminder workers look for work, in ms. */
  workerIntervalMs: number;
  /** Offsets before a booking's start at which reminders go out, in minutes, largest first. */
  reminderOffsetsMinutes: number[];
  /** How long a PENDING booking holds its slot, in minutes. */
  bookingHoldMinutes: number;
  /** How long an event stays in the event log after it was delivered everywhere, in days (1..3650). */
  eventRetentionDays: number;
  /** Signed webhooks (issue 14). */
  webhooks: WebhookConfig;
  /**
   * Outgoing e-mail (nodemailer): `SMTP_URL` (smtp:// or smtps://, credentials in the URL) and
   * the `MAIL_FROM` sender. Undefined: consumers only log notifications.
   */
  mail?: { smtpUrl: string; from: string };
  /**
   * Public origin of this API for links it hands out (calendar feed URLs), from `PUBLIC_URL`;
   * undefined: `http://HOST:PORT` of the listening server.
   */
  publicUrl?: string;
  logLevel: string;
}

/** Signed-webhook settings. Durations in ms. */
export interface WebhookConfig {
  /** Whether this process runs the webhook delivery worker (`WEBHOOK_DELIVERY`). */
  delivery: boolean;
  /** Endpoint URLs must be https (production). */
  requireHttps: boolean;
  /** Loopback receivers are allowed (outside production, or with `WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`). */
  allowLoopback: boolean;
  /** Private, link-local, cloud-metadata and other non-public addresses are allowed (`WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`). */
  allowPrivateNetworks: boolean;
  /** Waits before each retry, in ms (`WEBHOOK_RETRY_SCHEDULE`); a delivery gets `1 + length` attempts. */
  retryScheduleMs: number[];
  /** Per-request timeout, in ms (`WEBHOOK_TIMEOUT_MS`, default 10 000). */
  timeoutMs: number;
  /** An endpoint failing for this long without one success is disabled, in ms (`WEBHOOK_DISABLE_AFTER`, default 5 days). */
  disableAfterMs: number;
  /** Fallback poll interval of the worker, in ms (it also wakes after each commit). */
  pollMs: number;
  /** Key that encrypts endpoint secrets at rest (`WEBHOOK_SECRET_KEY`); unset: stored as they are. */
  secretKey?: string;
}

/** Thrown when the environment is invalid; the message lists every problem. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface LoadConfigOptions {
  /** `tool`: a CLI or consumer that never signs tokens, so production does not require `JWT_SECRET`. */
  role?: "server" | "tool";
}

function parseTrustProxy(v: string | undefined): boolean | number | string | undefined {
  if (v === undefined) return undefined;
  if (v === "true" || v === "false") return v === "true";
  return /^\d+$/.test(v) ? Number(v) : v;
}

/**
 * Parses and validates configuration once. An empty value counts as unset, so its default applies.
 *
 * @param env - variables to read; defaults to `process.env`. Tests pass their own object.
 * @throws ConfigError listing every invalid or missing variable.
 */
export function loadConfig(rawEnv: Record<string, string | undefined> = process.env, opts: LoadConfigOptions = {}): Config {
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== undefined && v.trim() !== ""));
  const parsed = envSchema.safeParse(env);
  const issues = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`)),
    ...crossVariableIssues(env, opts),
  ];
  if (!parsed.success || issues.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${issues.map((l) => `  ${l}`).join("\n")}`);
  }
  const e = parsed.data;
  return {
    nodeEnv: e.NODE_ENV,
    isProduction: e.NODE_ENV === "production",
    port: e.PORT,
    host: e.HOST,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    corsOrigins: e.CORS_ORIGINS,
    databaseUrl: e.DATABASE_URL,
    pgliteDir: e.PGLITE_DIR,
    databasePoolMax: e.DATABASE_POOL_MAX,
    redisUrl: e.REDIS_URL,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD, promoteExisting: e.ADMIN_PROMOTE_EXISTING === "true" } : undefined,
    jwtSecret: e.JWT_SECRET,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    aws: { region: e.AWS_REGION, sqsEndpoint: e.AWS_ENDPOINT_URL_SQS },
    queues: {
      bookingRequest: e.SQS_BOOKING_REQUEST_QUEUE_URL,
      bookingConfirmation: e.SQS_BOOKING_CONFIRMATION_QUEUE_URL,
      bookingEvents: e.SQS_BOOKING_EVENTS_QUEUE_URL,
    },
    sqsEmulatorPort: e.SQS_EMULATOR_PORT,
    sqsConfigured: Boolean(
      e.AWS_ENDPOINT_URL_SQS || e.SQS_BOOKING_REQUEST_QUEUE_URL || e.SQS_BOOKING_CONFIRMATION_QUEUE_URL || e.SQS_BOOKING_EVENTS_QUEUE_URL,
    ),
    outboxRelay: e.OUTBOX_RELAY === "on",
    outboxRelayPollMs: e.OUTBOX_RELAY_POLL_MS,
    consumerStateDir: e.CONSUMER_STATE_DIR,
    bookingHoldMinutes: e.BOOKING_HOLD_MINUTES,
    eventRetentionDays: e.EVENT_RETENTION_DAYS,
    queryLimits: {
      maxDepth: e.MAX_QUERY_DEPTH,
      maxCost: e.MAX_QUERY_COST,
      maxAliases: e.MAX_QUERY_ALIASES,
      maxDocumentBytes: e.MAX_DOCUMENT_BYTES,
    },
    loginRateLimit: {
      perAccount: e.LOGIN_MAX_ATTEMPTS_PER_ACCOUNT,
      perClient: e.LOGIN_MAX_ATTEMPTS_PER_CLIENT,
      windowSeconds: e.LOGIN_RATE_WINDOW_SECONDS,
    },
    wsLimits: { maxConnectionsPerClient: e.WS_MAX_CONNECTIONS_PER_CLIENT, maxOperationsPerConnection: e.WS_MAX_OPERATIONS_PER_CONNECTION },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    workers: e.WORKERS === "on",
    workerIntervalMs: e.WORKER_INTERVAL_MS,
    reminderOffsetsMinutes: e.REMINDER_OFFSETS_MINUTES,
    webhooks: {
      delivery: e.WEBHOOK_DELIVERY === "on",
      requireHttps: e.NODE_ENV === "production",
      allowLoopback: e.NODE_ENV !== "production" || e.WEBHOOK_ALLOW_PRIVATE_NETWORKS === "true",
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS === "true",
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      disableAfterMs: e.WEBHOOK_DISABLE_AFTER,
      pollMs: e.WEBHOOK_POLL_MS,
      secretKey: e.WEBHOOK_SECRET_KEY,
    },
    mail: e.SMTP_URL && e.MAIL_FROM ? { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM } : undefined,
    publicUrl: e.PUBLIC_URL,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === "test" ? "silent" : "info"),
  };
}
