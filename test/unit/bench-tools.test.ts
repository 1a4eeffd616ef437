import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { closedLoop } from "../../scripts/bench/load";
import { summariseProfile } from "../../scripts/bench/profile-summary";
import { distribution, percentile } from "../../scripts/bench/stats";
import { sleep } from "../support/wait";

/** A V8 .cpuprofile with the given self times (µs) per frame, all under one root. */
function writeProfile(frames: { functionName: string; url: string; us: number }[]): string {
  const nodes = [
    { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 }, children: frames.map((_, i) => i + 2) },
    ...frames.map((f, i) => ({ id: i + 2, callFrame: { functionName: f.functionName, url: f.url, lineNumber: 9 } })),
  ];
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "prof-")), "x.cpuprofile");
  writeFileSync(file, JSON.stringify({ nodes, samples: frames.map((_, i) => i + 2), timeDeltas: frames.map((f) => f.us), startTime: 0, endTime: 1 }));
  return file;
}

describe("bench tools", () => {
  it("summariseProfile sums self time per function and per package, and the idle share", () => {
    const file = writeProfile([
      { functionName: "is", url: "file:///app/node_modules/drizzle-orm/entity.cjs", us: 3_000 },
      { functionName: "toSQL", url: "file:///app/node_modules/drizzle-orm/sql/sql.cjs", us: 1_000 },
      { functionName: "send", url: "file:///app/node_modules/@aws-sdk/client-sqs/index.js", us: 2_000 },
      { functionName: "createBooking", url: "file:///app/dist/src/services/booking-create.service.js", us: 2_000 },
      { functionName: "(idle)", url: "", us: 2_000 },
    ]);
    const s = summariseProfile(file);
    expect(s.totalMs).toBe(10);
    expect(s.idleShare).toBe(0.2);
    expect(s.byPackage[0]).toEqual({ name: "drizzle-orm", selfMs: 4, share: 0.4 });
    expect(s.byPackage.map((e) => e.name)).toEqual(expect.arrayContaining(["@aws-sdk/client-sqs", "src/services", "(idle)"]));
    expect(s.byFunction[0]!.name).toBe("is node_modules/drizzle-orm/entity.cjs:10");
  });

  it("percentile is nearest-rank and distribution reports it per field", () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile([...samples].sort((a, b) => a - b), 50)).toBe(50);
    const d = distribution(samples);
    expect(d).toMatchObject({ count: 100, p50Ms: 50, p90Ms: 90, p99Ms: 99, minMs: 1, maxMs: 100, meanMs: 50.5 });
    expect(Number.isNaN(distribution([]).p50Ms)).toBe(true);
  });

  it("closedLoop gives each item to one call, keeps at most `clients` in flight, and counts failures", async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const point = await closedLoop(
      Array.from({ length: 50 }, (_, i) => i),
      4,
      60_000,
      async (item) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(1);
        inFlight--;
        seen.push(item);
        if (item % 10 === 0) throw new Error("a failed call");
        return item % 10 !== 5;
      },
    );
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(maxInFlight).toBe(4);
    expect(point).toMatchObject({ clients: 4, operations: 40, errors: 10 });
    expect(point.latency.count).toBe(40);
  });

  it("closedLoop stops at its deadline with items left", async () => {
    const point = await closedLoop(Array.from({ length: 10_000 }, (_, i) => i), 2, 50, () => new Promise<boolean>((r) => setTimeout(() => r(true), 5)));
    expect(point.operations).toBeGreaterThan(0);
    expect(point.operations).toBeLessThan(10_000);
  });
});
