import { performance } from "node:perf_hooks";
import { distribution } from "./stats";
import type { LoadPoint } from "./result";

/**
 * A closed loop: `clients` callers share `items`; each takes the next item, awaits `call`, and
 * repeats until the items run out or `deadlineMs` (from the start) passes. `call` resolves true
 * for a success. Latency is measured per call (ms); throughput is successes per wall second.
 */
export async function closedLoop<T>(items: readonly T[], clients: number, deadlineMs: number, call: (item: T, client: number) => Promise<boolean>): Promise<LoadPoint> {
  let next = 0;
  let errors = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const stopAt = started + deadlineMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (next < items.length && performance.now() < stopAt) {
        const item = items[next++]!;
        const t0 = performance.now();
        let ok = false;
        try {
          ok = await call(item, client);
        } catch {
          ok = false;
        }
        if (ok) latencies.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    clients,
    operations: latencies.length,
    errors,
    seconds: Math.round(seconds * 1000) / 1000,
    perSecond: Math.round((latencies.length / seconds) * 10) / 10,
    latency: distribution(latencies),
  };
}
