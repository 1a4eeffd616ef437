import Redis, { type RedisOptions } from "ioredis";
import { RedisPubSub } from "graphql-redis-subscriptions";
import { LivePubSub } from "./pubsub";

/**
 * Opens two ioredis connections (publisher and subscriber) and waits until both are
 * `ready` before any SUBSCRIBE is issued: ioredis 5.8.2-5.11.1 can silently drop a
 * SUBSCRIBE sent before `ready` (redis/ioredis#2037); `disableClientInfo` avoids the
 * CLIENT SETINFO round trip that opens that window.
 *
 * @param onError - hears each connection's `error` events (refused connects, failed ready checks
 *   while reconnecting); without a listener ioredis prints them to stderr as "Unhandled error event".
 *   Reconnection is ioredis's own; `/readyz` reports Redis down meanwhile.
 * @param commandTimeoutMs - bound on every command of both connections (ioredis `commandTimeout`): a
 *   Redis that stops answering with its connections open (SIGSTOP, overload, a silent partition)
 *   fails each PUBLISH, throttle read and readiness PING after this long instead of holding the
 *   request that made it until TCP gives up. A timed-out command still takes its place in the
 *   reply order, so the connection stays usable once Redis answers again.
 * @returns the pub/sub, a `ping()` used by `/readyz`, and the publisher connection (in normal
 *   command mode, so other Redis users such as the login throttle can share it)
 * @throws when Redis cannot be reached within ~10 s at start-up.
 */
export async function createRedisPubSub(
  redisUrl: string,
  onError: (err: Error, connection: "publisher" | "subscriber") => void,
  commandTimeoutMs: number,
): Promise<{ pubSub: LivePubSub; ping: () => Promise<void>; client: Redis }> {
  const options: RedisOptions = {
    disableClientInfo: true,
    lazyConnect: true,
    // Publishing must not block a mutation for long when Redis is away: fail fast,
    // the outbox keeps the durable copy of every event.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 10_000,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  // No offline queue on the publisher: while Redis is away a publish fails at once instead of
  // holding the mutation that made it (the outbox keeps the event for SQS either way). The
  // subscriber keeps its queue so SUBSCRIBEs made during a reconnect go out once it is back.
  // Auto-pipelining sends the commands issued in one tick (a commit's several PUBLISHes) in one
  // write; socket writes were a leading cost in the booking path's CPU profile (docs/benchmarks.md).
  const publisher = new Redis(redisUrl, { ...options, enableOfflineQueue: false, enableAutoPipelining: true, connectionName: "slotwise-pub" });
  const subscriber = new Redis(redisUrl, { ...options, connectionName: "slotwise-sub" });
  publisher.on("error", (err: Error) => onError(err, "publisher"));
  subscriber.on("error", (err: Error) => onError(err, "subscriber"));
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
  } catch (err) {
    publisher.disconnect();
    subscriber.disconnect();
    throw err;
  }
  handleFireAndForget(subscriber, (err) => onError(err, "subscriber"));
  const engine = new RedisPubSub({ publisher, subscriber });
  const pubSub = new LivePubSub(engine, async () => {
    await engine.close().catch(() => undefined);
  });
  return {
    pubSub,
    client: publisher,
    ping: async () => {
      await publisher.ping();
    },
  };
}

/**
 * graphql-redis-subscriptions 2.7 calls `subscriber.unsubscribe()` / `punsubscribe()` without
 * handling the promises they return. With a command timeout (or a lost connection) those reject,
 * and an unhandled rejection ends a Node process. A failed UNSUBSCRIBE is harmless (the channel
 * only stays subscribed on that connection), so its error goes to `onError` instead.
 */
function handleFireAndForget(subscriber: Redis, onError: (err: Error) => void): void {
  for (const name of ["unsubscribe", "punsubscribe"] as const) {
    const original = subscriber[name].bind(subscriber) as (...args: unknown[]) => Promise<unknown>;
    (subscriber as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const done = original(...args);
      done.catch(onError);
      return done;
    };
  }
}
