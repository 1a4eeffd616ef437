import { randomBytes } from "node:crypto";
import { loadConfig } from "../../src/config";
import { startServer } from "../../src/server";
import { endpointsOf } from "./graphql";

export const DEFAULT_URL = "http://127.0.0.1:4000/graphql";

/** The server the demo talks to. */
export interface Target {
  url: string;
  wsUrl: string;
  /** `external`: a server that was already running; `in-process`: started by the demo. */
  mode: "external" | "in-process";
  description: string;
  stop(): Promise<void>;
}

async function answers(healthUrl: string): Promise<boolean> {
  try {
    const res = await fetch(healthUrl, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * An explicit URL must answer `/healthz`. Without one, a server on the default URL is
 * used when it answers; otherwise one is started in this process on the embedded default
 * (in-memory PGlite, in-process pub/sub, a free port) and stopped by `stop()`; given `smtpUrl`,
 * that server sends its e-mail there (it runs the mail consumers itself). That server also runs
 * the webhook delivery worker in development mode, where loopback receivers are allowed, and
 * retries within seconds so a failed delivery is retried within the demo's wait.
 */
export async function resolveTarget(explicitUrl: string | undefined, smtpUrl?: string): Promise<Target> {
  const candidate = endpointsOf(explicitUrl ?? DEFAULT_URL);
  if (await answers(candidate.healthUrl)) {
    return { ...candidate, mode: "external", description: `running server at ${candidate.url}`, stop: async () => undefined };
  }
  if (explicitUrl) throw new Error(`no Slotwise server answers at ${candidate.healthUrl}`);

  // A fixed secret only silences the "random secret" warning; the tokens die with the process anyway.
  const config = loadConfig({
    PGLITE_DIR: "memory://",
    PORT: "0",
    LOG_LEVEL: "warn",
    // Stated, not inherited: loopback webhook URLs are allowed outside production only.
    NODE_ENV: "development",
    WEBHOOK_DELIVERY: "on",
    WEBHOOK_RETRY_SCHEDULE: "1s,2s,4s",
    JWT_SECRET: randomBytes(32).toString("hex"),
    ...(smtpUrl ? { SMTP_URL: smtpUrl, MAIL_FROM: "Slotwise demo <bookings@slotwise.demo>" } : {}),
  });
  const server = await startServer(config);
  return {
    url: server.url,
    wsUrl: server.wsUrl,
    mode: "in-process",
    description: `in-process server at ${server.url} (embedded PGlite in memory, in-process pub/sub, webhook delivery worker)`,
    stop: () => server.stop(),
  };
}

/** True when the target's host is this machine, so it can reach a receiver on 127.0.0.1. */
export function isLoopbackTarget(target: Target): boolean {
  const host = new URL(target.url).hostname;
  return target.mode === "in-process" || host === "localhost" || host === "[::1]" || /^127\./.test(host);
}
