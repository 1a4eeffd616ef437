/**
 * Re-renders docs/benchmarks.md and its charts from a saved run, without running anything:
 *
 *   node dist/scripts/bench/render-report.js bench/results/<date>.json [--docs docs/benchmarks.md] [--charts docs/benchmarks]
 *
 * Paths are relative to the working directory. Exits 2 on bad arguments, 1 on any other failure.
 */
import { readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { renderCharts } from "./charts";
import { renderReport } from "./report";
import type { BenchResult } from "./result";

const USAGE = "usage: render-report <result.json> [--docs docs/benchmarks.md] [--charts docs/benchmarks]";

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { docs: { type: "string", default: "docs/benchmarks.md" }, charts: { type: "string", default: "docs/benchmarks" } },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const [input, ...extra] = parsed.positionals;
  if (!input || extra.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const result = JSON.parse(await readFile(input, "utf8")) as BenchResult;
  const docs = path.resolve(parsed.values.docs);
  const chartsDir = path.resolve(parsed.values.charts);

  const files = await renderCharts(result, chartsDir);
  const markdown = renderReport(result, { dir: chartsDir, files }, docs);
  await mkdir(path.dirname(docs), { recursive: true });
  await writeFile(docs, markdown);
  for (const f of [docs, ...files]) process.stdout.write(`wrote ${f}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`render-report: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
