import { randomUUID } from "node:crypto";
import { handleOnce } from "../../src/consumers/processed-events";
import { deferred, processedRows } from "../support/consumer-world";
import { BACKENDS, useBackend } from "../support/service-world";

describe.each(BACKENDS)("processed-event store (handleOnce) on $name", (backend) => {
  const { it } = useBackend(backend);

  it("runs the side effect for a new event and reports a repeat as a duplicate without running it", async (db) => {
    const key = { consumer: "test-consumer", eventId: randomUUID() };
    let runs = 0;
    const effect = async () => void runs++;

    expect(await handleOnce(db, key, effect)).toBe("handled");
    expect(await handleOnce(db, key, effect)).toBe("duplicate");
    expect(runs).toBe(1);
    expect(await processedRows(db, key.consumer, key.eventId)).toBe(1);
  });

  it("keeps consumers apart: the same event id is new to another consumer", async (db) => {
    const eventId = randomUUID();
    expect(await handleOnce(db, { consumer: "a", eventId }, async () => undefined)).toBe("handled");
    expect(await handleOnce(db, { consumer: "b", eventId }, async () => undefined)).toBe("handled");
  });

  it("a side effect that throws records nothing, so the next delivery runs it again", async (db) => {
    const key = { consumer: "test-consumer", eventId: randomUUID() };
    await expect(handleOnce(db, key, async () => Promise.reject(new Error("channel down")))).rejects.toThrow("channel down");
    expect(await processedRows(db, key.consumer, key.eventId)).toBe(0);

    let runs = 0;
    expect(await handleOnce(db, key, async () => void runs++)).toBe("handled");
    expect(runs).toBe(1);
  });

  it("two concurrent deliveries of one event run the side effect once", async (db) => {
    const key = { consumer: "test-consumer", eventId: randomUUID() };
    const firstStarted = deferred();
    const release = deferred();
    let runs = 0;
    const effect = async () => {
      runs++;
      firstStarted.resolve();
      await release.promise;
    };
    const first = handleOnce(db, key, effect);
    await firstStarted.promise;
    // The second delivery arrives while the first is still inside its transaction.
    const second = handleOnce(db, key, effect);
    release.resolve();

    expect([await first, await second].sort()).toEqual(["duplicate", "handled"]);
    expect(runs).toBe(1);
  });
});
