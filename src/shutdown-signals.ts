import type { Logger } from "pino";

export interface ShutdownOptions {
  log: Logger;
  /** Stops the process's work; resolves when it is safe to exit. */
  stop(): Promise<void>;
  /** Logged with the first signal: what stopping does. */
  message: string;
  /** Logged with a second signal. */
  forcedMessage?: string;
  /** Exit with 1 if stopping takes longer than this, in ms; none when undefined. */
  graceMs?: number;
}

/**
 * SIGTERM/SIGINT handling shared by the API and the consumers: the first signal stops
 * gracefully and exits 0 (1 if stopping fails or outlasts the grace period); a second
 * signal exits 1 at once.
 */
export function exitGracefullyOnSignals(o: ShutdownOptions): void {
  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals > 1) {
      o.log.warn({ signal }, o.forcedMessage ?? "second signal: exiting now");
      process.exit(1);
    }
    o.log.info({ signal, graceMs: o.graceMs }, o.message);
    if (o.graceMs !== undefined) {
      // A stuck dependency must not keep the process alive forever.
      setTimeout(() => {
        o.log.error({ graceMs: o.graceMs }, "shutdown grace period exceeded: exiting");
        process.exit(1);
      }, o.graceMs).unref();
    }
    o.stop().then(
      () => process.exit(0),
      (err) => {
        o.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}
