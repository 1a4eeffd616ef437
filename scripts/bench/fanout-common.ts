import { performance } from "node:perf_hooks";
import { distribution, percentile, type Distribution } from "./stats";

/** Connections opened at once while building up many subscribers (keeps SYN bursts under the accept backlog). */
export const CONNECT_CONCURRENCY = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` or `ms` passes; true when done. */
export async function until(done: () => boolean, ms: number): Promise<boolean> {
  const stopAt = Date.now() + ms;
  while (!done() && Date.now() < stopAt) await sleep(2);
  return done();
}

/**
 * When each of `size` listeners heard the event being watched (performance.now() ms; NaN: not yet).
 * `watch(marker)` starts a new event; listeners call `heard(i, marker)` for every message they get.
 */
export class DeliveryClock {
  private readonly at: Float64Array;
  private marker = "";
  private count = 0;
  private readonly toFirst: number[] = [];
  private readonly toMedian: number[] = [];
  private readonly toLast: number[] = [];
  private missing = 0;

  constructor(readonly size: number) {
    this.at = new Float64Array(size).fill(Number.NaN);
  }

  watch(marker: string): void {
    this.at.fill(Number.NaN);
    this.count = 0;
    this.marker = marker;
  }

  heard(listener: number, marker: string): void {
    if (marker !== this.marker || !Number.isNaN(this.at[listener]!)) return;
    this.at[listener] = performance.now();
    this.count++;
  }

  /** Listeners that heard the current event. */
  get heardCount(): number {
    return this.count;
  }

  /** Records the current event's first, median and last delivery, measured from `sentAt` (ms). */
  record(sentAt: number): void {
    const times = Array.from(this.at)
      .filter((t) => !Number.isNaN(t))
      .map((t) => t - sentAt)
      .sort((a, b) => a - b);
    this.missing += this.size - times.length;
    if (times.length === 0) return;
    this.toFirst.push(times[0]!);
    this.toMedian.push(percentile(times, 50));
    this.toLast.push(times[times.length - 1]!);
  }

  /** Distributions over the recorded events, and deliveries that never arrived. */
  summary(): { events: number; toFirst: Distribution; toMedian: Distribution; toLast: Distribution; missing: number } {
    return { events: this.toLast.length, toFirst: distribution(this.toFirst), toMedian: distribution(this.toMedian), toLast: distribution(this.toLast), missing: this.missing };
  }
}
