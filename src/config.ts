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

const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HOST: z.string().default("127.0.0.1"),
    DATABASE_URL: optionalString,
    PGLITE_DIR: z.string().default(".data/pglite"),
    DATABASE_POOL_MAX: z.coerce.number().int().positive().default(20),
    REDIS_URL: optionalString,
    ADMIN_EMAIL: optionalString,
    ADMIN_PASSWORD: optionalString,
    JWT_SECRET: optionalString,
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(15 * 60),
    REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().positive().default(30),
    AWS_REGION: z.string().default("us-east-1"),
    AWS_ENDPOINT_URL_SQS: optionalString,
    SQS_BOOKING_REQUEST_QUEUE_URL: optionalString,
    SQS_BOOKING_CONFIRMATION_QUEUE_URL: optionalString,
    SQS_BOOKING_EVENTS_QUEUE_URL: optionalString,
    SQS_EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(9324),
    BOOKING_HOLD_MINUTES: z.coerce.number().int().positive().max(7 * 24 * 60).default(15),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === "production") {
      if (!env.DATABASE_URL) ctx.addIssue({ code: "custom", path: ["DATABASE_URL"], message: "is required when NODE_ENV=production" });
      if (!env.JWT_SECRET) ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "is required when NODE_ENV=production" });
    }
    if (env.JWT_SECRET && env.JWT_SECRET.length < 32) {
      // RFC 7518 §3.2: an HS256 key must be at least 256 bits.
      ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "must be at least 32 characters (RFC 7518 §3.2)" });
    }
    if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
      ctx.addIssue({ code: "custom", path: ["ADMIN_PASSWORD"], message: "ADMIN_EMAIL and ADMIN_PASSWORD must be set together" });
    }
  });

/** Parsed, validated configuration. Durations carry their unit in the name. */
export interface Config {
  nodeEnv: "development" | "test" | "production";
  isProduction: boolean;
  port: number;
  host: string;
  /** PostgreSQL URL; undefined selects embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data directory, or `memory://` for an in-memory database. */
  pgliteDir: string;
  databasePoolMax: number;
  /** Redis URL; undefined selects in-process pub/sub. */
  redisUrl?: string;
  admin?: { email: string; password: string };
  /** HS256 secret; undefined outside production means "generate one per process". */
  jwtSecret?: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  aws: { region: string; sqsEndpoint?: string };
  queues: { bookingRequest?: string; bookingConfirmation?: string; bookingEvents?: string };
  sqsEmulatorPort: number;
  /** How long a PENDING booking holds its slot, in minutes. */
  bookingHoldMinutes: number;
  logLevel: string;
}

/** Thrown when the environment is invalid; the message lists every problem. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses and validates configuration once.
 *
 * @param env - variables to read; defaults to `process.env`. Tests pass their own object.
 * @throws ConfigError listing every invalid or missing variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return {
    nodeEnv: e.NODE_ENV,
    isProduction: e.NODE_ENV === "production",
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    pgliteDir: e.PGLITE_DIR,
    databasePoolMax: e.DATABASE_POOL_MAX,
    redisUrl: e.REDIS_URL,
    admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD } : undefined,
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
    bookingHoldMinutes: e.BOOKING_HOLD_MINUTES,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === "test" ? "silent" : "info"),
  };
}
