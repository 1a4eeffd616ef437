import { z } from "zod";
import type { Config, WebhookConfig } from "./config-types";
import { crossVariableIssues, httpUrl, optionalString, parseCorsOrigins, parseDurationMs, parseTrustProxy, postgresUrl, redisUrl } from "./config-parsers";

export type { Config, WebhookConfig } from "./config-types";
export type { CorsOrigins } from "./config-parsers";

/**
 * Environment variables Slotwise reads, each with its parse and default (values arrive as
 * strings, empty ones already removed). Names are part of the public contract (see DESIGN.md,
 * "Environment"); this module is the only reader of `process.env`. The value parsers and the
 * rules across variables are in src/config-parsers.ts, the `Config` type in src/config-types.ts.
 */
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

/** The environment after the per-variable parse. */
type Env = z.infer<typeof envSchema>;

/** Thrown when the environment is invalid; the message lists every problem. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface LoadConfigOptions {
  /** `tool`: a CLI or consumer that never signs tokens, so production does not require `JWT_SECRET`. */
  role?: "server" | "tool";
}

/**
 * Parses and validates configuration once. An empty value counts as unset, so its default applies.
 *
 * @param env - variables to read; defaults to `process.env`. Tests pass their own object.
 * @throws ConfigError listing every invalid or missing variable.
 */
export function loadConfig(rawEnv: Record<string, string | undefined> = process.env, opts: LoadConfigOptions = {}): Config {
  const e = parseEnv(rawEnv, opts);
  return {
    ...listenSettings(e),
    ...storageSettings(e),
    ...accountSettings(e),
    ...eventSettings(e),
    ...limitSettings(e),
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    workers: e.WORKERS === "on",
    workerIntervalMs: e.WORKER_INTERVAL_MS,
    reminderOffsetsMinutes: e.REMINDER_OFFSETS_MINUTES,
    webhooks: webhookSettings(e),
    mail: e.SMTP_URL && e.MAIL_FROM ? { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM } : undefined,
    publicUrl: e.PUBLIC_URL,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === "test" ? "silent" : "info"),
  };
}

/**
 * Every variable parsed, and the rules across variables checked, on the same raw values: one
 * malformed variable never hides another.
 *
 * @throws ConfigError listing every problem, one line each, named by variable
 */
function parseEnv(rawEnv: Record<string, string | undefined>, opts: LoadConfigOptions): Env {
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== undefined && v.trim() !== ""));
  const parsed = envSchema.safeParse(env);
  const issues = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`)),
    ...crossVariableIssues(env, opts),
  ];
  if (!parsed.success || issues.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${issues.map((l) => `  ${l}`).join("\n")}`);
  }
  return parsed.data;
}

/** The process and how it listens. */
function listenSettings(e: Env): Pick<Config, "nodeEnv" | "isProduction" | "port" | "host" | "trustProxy" | "corsOrigins"> {
  return {
    nodeEnv: e.NODE_ENV,
    isProduction: e.NODE_ENV === "production",
    port: e.PORT,
    host: e.HOST,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    corsOrigins: e.CORS_ORIGINS,
  };
}

/** The database and Redis. */
function storageSettings(e: Env): Pick<Config, "databaseUrl" | "pgliteDir" | "databasePoolMax" | "redisUrl" | "redisCommandTimeoutMs"> {
  return {
    databaseUrl: e.DATABASE_URL,
    pgliteDir: e.PGLITE_DIR,
    databasePoolMax: e.DATABASE_POOL_MAX,
    redisUrl: e.REDIS_URL,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
  };
}

/** The admin account, tokens and sessions. */
function accountSettings(e: Env): Pick<Config, "admin" | "jwtSecret" | "accessTokenTtlSeconds" | "refreshTokenTtlDays"> {
  return {
    admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD, promoteExisting: e.ADMIN_PROMOTE_EXISTING === "true" } : undefined,
    jwtSecret: e.JWT_SECRET,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
  };
}

type EventSettings = "aws" | "queues" | "sqsEmulatorPort" | "sqsConfigured" | "outboxRelay" | "outboxRelayPollMs" | "consumerStateDir" | "bookingHoldMinutes" | "eventRetentionDays";

/** SQS, the outbox relay, the consumers' state, holds and the event log. */
function eventSettings(e: Env): Pick<Config, EventSettings> {
  return {
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
  };
}

/** Bounds on operations, failed logins and live connections. */
function limitSettings(e: Env): Pick<Config, "queryLimits" | "loginRateLimit" | "wsLimits"> {
  return {
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
  };
}

function webhookSettings(e: Env): WebhookConfig {
  return {
    delivery: e.WEBHOOK_DELIVERY === "on",
    requireHttps: e.NODE_ENV === "production",
    allowLoopback: e.NODE_ENV !== "production" || e.WEBHOOK_ALLOW_PRIVATE_NETWORKS === "true",
    allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS === "true",
    retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    disableAfterMs: e.WEBHOOK_DISABLE_AFTER,
    pollMs: e.WEBHOOK_POLL_MS,
    secretKey: e.WEBHOOK_SECRET_KEY,
  };
}
