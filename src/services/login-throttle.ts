import type Redis from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { RateLimitedError } from "../domain/errors";

export interface LoginRateLimit {
  /** Failed attempts allowed per account in a window. */
  perAccount: number;
  /** Failed attempts allowed per client address in a window. */
  perClient: number;
  /** Window length, in seconds. */
  windowSeconds: number;
}

/**
 * Throttles failed logins per account and per client address (OWASP Authentication Cheat
 * Sheet, "Protect against automated attacks"), with `rate-limiter-flexible`: in Redis when
 * given a client, so every instance shares the counts, in process memory otherwise (and as
 * the fallback while Redis is unreachable). Each attempt takes a point before the password is
 * checked; a success gives it back and clears the account's count, so in effect only failures count.
 */
export class LoginThrottle {
  private readonly perAccount: RateLimiterAbstract;
  private readonly perClient: RateLimiterAbstract;

  constructor(limits: LoginRateLimit, redis?: Redis) {
    const make = (keyPrefix: string, points: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix, points, duration: limits.windowSeconds });
      if (!redis) return memory;
      return new RateLimiterRedis({ storeClient: redis, keyPrefix: `slotwise:${keyPrefix}`, points, duration: limits.windowSeconds, insuranceLimiter: memory });
    };
    this.perAccount = make("login-account", limits.perAccount);
    this.perClient = make("login-client", limits.perClient);
  }

  /**
   * Takes one attempt from the account's and the client address's allowance, atomically (one
   * Redis INCR, or one in-process increment), before the password is checked: concurrent guesses
   * each take their own point, so at most `perAccount` of them are ever checked in a window.
   * Reading the count first and raising it after the check let every guess of a burst through.
   *
   * @returns a permit: call `succeeded()` after a correct password (the account's count is cleared
   *   and the client's point refunded: only failures count) or `failed()` after a wrong one
   * @throws RateLimitedError when the account or the client address has used up its attempts;
   *   a point taken from the other one is given back
   */
  async acquire(account: string, client: string | undefined): Promise<LoginPermit> {
    const takes: [RateLimiterAbstract, string, string][] = [[this.perAccount, account, "this account"]];
    if (client) takes.push([this.perClient, client, "this client address"]);
    const outcomes = await Promise.allSettled(takes.map(([limiter, key]) => limiter.consume(key, 1)));
    const refused = outcomes.findIndex((o) => o.status === "rejected");
    if (refused >= 0) {
      // Only a limiter that answered with a refusal (not one that threw) holds a point to give back.
      await Promise.all(takes.map(([limiter, key], i) => (outcomes[i]!.status === "fulfilled" ? limiter.reward(key, 1) : undefined)));
      const reason: unknown = (outcomes[refused] as PromiseRejectedResult).reason;
      if (!(reason instanceof RateLimiterRes)) throw reason;
      throw new RateLimitedError(`Too many failed logins for ${takes[refused]![2]}; try again later`, Math.max(1, Math.ceil(reason.msBeforeNext / 1000)));
    }
    return {
      succeeded: async () => {
        await Promise.all([this.perAccount.delete(account), ...(client ? [this.perClient.reward(client, 1)] : [])]);
      },
      // The points stay taken.
      failed: async () => undefined,
    };
  }
}

/** One login attempt's hold on the throttle, from {@link LoginThrottle.acquire}. */
export interface LoginPermit {
  succeeded(): Promise<void>;
  failed(): Promise<void>;
}
