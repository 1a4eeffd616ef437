/**
 * The waiting helpers every test shares: one bounded poll, one plain sleep, and the two named
 * pauses (`settle` for a subscription to reach the server, `drain` for in-process deliveries).
 * None of them asserts anything about time; a timeout only bounds how long a test may hang.
 */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Gives a just-started subscription time (`ms`, default 150) to reach the server's pub/sub. */
export function settle(ms = 150): Promise<void> {
  return sleep(ms);
}

/** Lets in-process pub/sub deliveries (microtasks and immediates) run to completion. */
export async function drain(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Bounds of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Poll every this many milliseconds (default 50). */
  intervalMs?: number;
  /** Says what was seen instead, for the timeout message (default: the last value as JSON). */
  describe?: () => string | Promise<string>;
}

type Truthy<T> = Exclude<T, undefined | null | false | 0 | "">;

/**
 * Polls `check` until it returns a truthy value, and resolves with that value.
 * @throws Error "timed out waiting for <what>" once `timeoutMs` has passed without one.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, opts: WaitOptions = {}): Promise<Truthy<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const last = await check();
    if (last) return last as Truthy<T>;
    if (Date.now() > deadline) {
      const seen = opts.describe ? await opts.describe() : `last value ${JSON.stringify(last)}`;
      throw new Error(`timed out waiting for ${what}; ${seen}`);
    }
    await sleep(opts.intervalMs ?? 50);
  }
}
