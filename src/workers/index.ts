import type { Logger } from "pino";
import type { Config } from "../config";
import type { Services } from "../services";
import { IntervalWorker } from "./interval-worker";

/** How often the schedule horizon is checked; extension itself happens about once a day per schedule. */
const HORIZON_CHECK_MS = 60 * 60_000;

/**
 * Starts the background workers: hold expiry and reminders every `WORKER_INTERVAL_MS`, and
 * schedule-horizon extension hourly (each schedule is extended once a day). Every worker is
 * safe to run in several instances at once (row locks with SKIP LOCKED, unique keys).
 *
 * @returns the workers; stop them with `stopWorkers`
 */
export function startWorkers(services: Services, config: Pick<Config, "workerIntervalMs">, log: Logger): IntervalWorker[] {
  const workers = [
    new IntervalWorker("hold-expiry", config.workerIntervalMs, () => services.bookingExpiry.expireLapsedHolds(), log),
    new IntervalWorker("reminders", config.workerIntervalMs, () => services.reminders.sendDueReminders(), log),
    new IntervalWorker("schedule-horizon", HORIZON_CHECK_MS, () => services.schedules.extendHorizons(), log),
  ];
  for (const w of workers) w.start();
  return workers;
}

/** Stops workers after the runs in flight finish. */
export async function stopWorkers(workers: readonly IntervalWorker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.stop()));
}
