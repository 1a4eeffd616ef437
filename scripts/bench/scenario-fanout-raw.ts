import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { CONNECT_CONCURRENCY, DeliveryClock, until } from "./fanout-common";
import type { FanoutResult } from "./result";
import { spawnBenchProcess } from "./server-handle";
import { runLimited } from "./stats";

/** A graphql-ws `next` message as Slotwise sends it for slotAvailabilityChanged, so the frame sizes match. */
function frameFor(slotId: string): string {
  return JSON.stringify({ id: randomUUID(), type: "next", payload: { data: { slotAvailabilityChanged: { slot: { id: slotId, status: "HELD" } } } } });
}

/**
 * The fan-out baseline: `connections` plain WebSocket clients of a bare `ws` server in its own
 * process (raw-ws-process), which sends each of `events` frames to all of them. The clients parse
 * every frame as the graphql-ws client does, so both sides of the comparison pay the same.
 */
export async function measureRawBroadcast(opts: { connections: number; events: number; deadlineMs: number }): Promise<NonNullable<FanoutResult["raw"]>> {
  const server = await spawnBenchProcess<{ url: string }>("raw-ws-process.js", { PATH: process.env.PATH ?? "" });
  const sockets: WebSocket[] = [];
  try {
    const before = await server.memory();
    const clock = new DeliveryClock(opts.connections);
    let failed = 0;
    const connectStarted = performance.now();
    await runLimited(
      Array.from({ length: opts.connections }, (_, i) => i),
      CONNECT_CONCURRENCY,
      (i) =>
        new Promise<void>((resolve) => {
          const socket = new WebSocket(server.url);
          socket.on("message", (data: Buffer) => {
            const m = JSON.parse(data.toString("utf8")) as { payload?: { data?: { slotAvailabilityChanged?: { slot?: { id?: string } } } } };
            clock.heard(i, m.payload?.data?.slotAvailabilityChanged?.slot?.id ?? "");
          });
          socket.once("open", () => {
            sockets.push(socket);
            resolve();
          });
          socket.once("error", () => {
            failed++;
            resolve();
          });
        }),
    );
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const live = opts.connections - failed;
    const after = await server.memory();
    for (let e = 0; e < opts.events; e++) {
      const marker = randomUUID();
      clock.watch(marker);
      const sentAt = performance.now();
      server.send({ type: "broadcast", frame: frameFor(marker) });
      await until(() => clock.heardCount >= live, opts.deadlineMs);
      clock.record(sentAt);
    }
    return {
      connections: opts.connections,
      failed,
      connectSeconds: Math.round(connectSeconds * 100) / 100,
      heapPerConnection: Math.round((after.heapUsed - before.heapUsed) / Math.max(1, live)),
      rssPerConnection: Math.round((after.rss - before.rss) / Math.max(1, live)),
      ...clock.summary(),
    };
  } finally {
    for (const s of sockets) s.terminate();
    await server.stop();
  }
}
