import type Redis from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
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
 * the fallback while Redis is unreachable). Only failures count; a success clears the
 * account's count.
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

  /** @throws RateLimitedError when the account or the client address has used up its attempts */
  async check(account: string, client: string | undefined): Promise<void> {
    const checks: [RateLimiterAbstract, string, string][] = [[this.perAccount, account, "this account"]];
    if (client) checks.push([this.perClient, client, "this client address"]);
    for (const [limiter, key, what] of checks) {
      const res = await limiter.get(key);
      if (res && res.consumedPoints >= limiter.points) {
        throw new RateLimitedError(`Too many failed logins for ${what}; try again later`, Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
      }
    }
  }

  async recordFailure(account: string, client: string | undefined): Promise<void> {
    await Promise.all([
      this.perAccount.penalty(account, 1),
      ...(client ? [this.perClient.penalty(client, 1)] : []),
    ]);
  }

  async recordSuccess(account: string): Promise<void> {
    await this.perAccount.delete(account);
  }
}
