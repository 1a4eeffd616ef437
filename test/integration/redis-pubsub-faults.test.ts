import { spawnSync } from "node:child_process";
import { createRedisPubSub } from "../../src/events/redis-pubsub";
import { startScratchRedis, type ScratchRedis } from "../support/scratch-redis";
import { sleep } from "../support/wait";

/**
 * A Redis that stops answering must never end the process. graphql-redis-subscriptions sends
 * UNSUBSCRIBE without handling its promise, and type-graphql's `publish()` returns nothing; with
 * the command timeout both reject while Redis is frozen, and an unhandled rejection ends a Node
 * process (jest reports it as a failed suite). Runs against a private redis-server of this file.
 */
const hasRedisServer = spawnSync("redis-server", ["--version"]).status === 0;
if (!hasRedisServer && process.env.REQUIRE_SERVICES === "1") throw new Error("redis-server is not installed (REQUIRE_SERVICES=1)");
const describeWithRedis = hasRedisServer ? describe : describe.skip;

const COMMAND_TIMEOUT_MS = 200;

describeWithRedis("Redis pub/sub while Redis is frozen", () => {
  let redis: ScratchRedis;
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => void unhandled.push(reason);

  beforeAll(async () => {
    redis = await startScratchRedis();
    process.on("unhandledRejection", record);
  });
  afterAll(async () => {
    process.off("unhandledRejection", record);
    redis?.thaw();
    await redis?.stop();
  });

  it("ending a subscription and publishing through type-graphql's interface leave no unhandled rejection", async () => {
    const errors: Error[] = [];
    const { pubSub } = await createRedisPubSub(redis.url, (err) => void errors.push(err), COMMAND_TIMEOUT_MS);
    const events = pubSub.subscribeTopic("SLOT_EVENTS", "frozen-provider");
    // The Repeater subscribes when first read; let its SUBSCRIBE reach Redis before freezing.
    const first = events.next();
    await sleep(300);
    redis.freeze();
    await events.return?.(undefined);
    await first;
    pubSub.publish("SLOT_EVENTS:frozen-provider", { slots: [] });
    await sleep(COMMAND_TIMEOUT_MS * 5);
    expect(unhandled).toEqual([]);
    // The failed UNSUBSCRIBE was reported, not dropped.
    expect(errors.map((e) => e.message)).toContain("Command timed out");
    redis.thaw();
    await pubSub.close();
  });
});
