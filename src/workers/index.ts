import type { Logger } from "pino";
import type { Config } from "../config";
import type { Services } from "../services";
import { IntervalWorker } from "./interval-worker";

/** How often the schedule horizon is checked; extension itself happens about once a day per schedule. */
const HORIZON_CHECK_MS = 60 * 60_000;
/** How often events past their retention are pruned from the event log. */
const EVENT_RETENTION_CHECK_MS = 15 * 60_000;

/**
 * Starts the background workers: hold expiry and reminders every `WORKER_INTERVAL_MS`,
 * schedule-horizon extension hourly (each schedule is extended once a day), and event-log
 * retention (`EVENT_RETENTION_DAYS`) every 15 minutes. Every worker is
 * safe to run in several instances at once (row locks with SKIP LOCKED, unique keys).
 *
 * @returns the workers; stop them with `stopWorkers`
 */
export function startWorkers(services: Services, config: Pick<Config, "workerIntervalMs">, log: Logger): IntervalWorker[] {
  const workers = [
    new IntervalWorker("hold-expiry", config.workerIntervalMs, () => services.bookingExpiry.expireLapsedHolds(), log),
    new IntervalWorker("reminders", config.workerIntervalMs, () => services.reminder.sendDueReminders(), log),
    new IntervalWorker("schedule-horizon", HORIZON_CHECK_MS, () => services.schedule.extendHorizons(), log),
    new IntervalWorker("event-retention", EVENT_RETENTION_CHECK_MS, () => services.eventLog.pruneExpiredEvents(), log),
  ];
  for (const w of workers) w.start();
  return workers;
}

/** Stops workers after the runs in flight finish. */
export async function stopWorkers(workers: readonly IntervalWorker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.stop()));
}
