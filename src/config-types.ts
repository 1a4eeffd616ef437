import type { CorsOrigins } from "./config-parsers";

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
