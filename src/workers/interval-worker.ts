import type { Logger } from "pino";

/**
 * Runs `task` every `intervalMs` (after the previous run finished, so runs never overlap in
 * one process). `stop()` waits for a run in flight: shutdown never cuts a batch in half.
 */
export class IntervalWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Runs the task once now (tests, and start-up catch-up). */
  async runOnce(): Promise<void> {
    try {
      await this.task();
    } catch (err) {
      this.log.error({ err, worker: this.name }, "worker run failed");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.intervalMs);
      });
    }, delay);
    this.timer.unref();
  }
}
