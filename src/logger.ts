import pino, { type Logger } from "pino";

export type { Logger };

/** Structured JSON logger (pino). `level` is a pino level name or `silent`. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "slotwise" }, timestamp: pino.stdTimeFunctions.isoTime });
}
