/**
 * The pause between rounds of a background loop (the outbox relay, the webhook delivery worker):
 * `sleep(ms, true)` ends early when `wake()` is called (work was committed) or was called since
 * the last wakeable sleep, so a wake-up between two rounds is never lost; every sleep ends at
 * once on `stop()`. Times are in milliseconds.
 */
export class LoopSleeper {
  private stopped = false;
  private woken = false;
  private wakeUp?: () => void;

  /** Clears a previous `stop()`; call when the loop (re)starts. */
  reset(): void {
    this.stopped = false;
  }

  /** Ends the current wakeable sleep, or the next one at once. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Ends any sleep now, wakeable or not. */
  stop(): void {
    this.stopped = true;
    this.wakeUp?.();
  }

  sleep(ms: number, wakeable: boolean): Promise<void> {
    if (wakeable && this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        if (this.stopped || wakeable) {
          this.woken = false;
          this.wakeUp = undefined;
          done();
        }
      };
    });
  }
}
