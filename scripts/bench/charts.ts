/**
 * Charts for docs/benchmarks.md: Apache ECharts renders each chart to an SVG string in Node
 * (server-side rendering, no DOM, no browser) and resvg rasterises the SVG to PNG.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as echarts from "echarts";
import type { BenchResult, LoadPoint } from "./result";
import type { Distribution } from "./stats";

const WIDTH = 900;
const HEIGHT = 500;
/** From Debian's fonts-dejavu-core (on this machine kind); without an installed font resvg silently draws no text. */
const FONT = "DejaVu Sans";
/** One colour per way of booking, shared by both Scenario 1 charts so the legends read alike. */
const COLOURS = { http: "#2f6fb3", service: "#e07b28", pgbench: "#3a9a4a" };
const WAYS = [
  { key: "http", name: "GraphQL over HTTP" },
  { key: "service", name: "Service layer" },
  { key: "pgbench", name: "pgbench (SQL only)" },
] as const;

type Option = echarts.EChartsOption;
const LEGEND = { textStyle: { fontSize: 13, fontFamily: FONT }, itemWidth: 30, itemGap: 40 };

/**
 * Renders the charts whose data `result` holds into `outDir` (created if missing), each a
 * 900x500 px PNG on white: `throughput.png` and `latency.png` (Scenario 1) and `fanout.png`
 * (Scenario 3). Returns the absolute paths written, in that order; a chart without data is skipped.
 */
export async function renderCharts(result: BenchResult, outDir: string): Promise<string[]> {
  const charts: [string, Option][] = [];
  const t = result.throughput;
  if (t && t.http.length + t.service.length + t.pgbench.length > 0) {
    const clients = clientCounts([t.http, t.service, t.pgbench]);
    charts.push(["throughput.png", throughputOption(clients, t)]);
    charts.push(["latency.png", latencyOption(clients, t)]);
  }
  if (result.fanout) charts.push(["fanout.png", fanoutOption(result.fanout)]);
  if (charts.length === 0) return [];

  const dir = path.resolve(outDir);
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, option] of charts) {
    const target = path.join(dir, file);
    await writeFile(target, svgToPng(renderSvg(option)));
    written.push(target);
  }
  return written;
}

/** Every client count any of the three ways measured, ascending (one axis category each). */
function clientCounts(series: readonly LoadPoint[][]): number[] {
  return [...new Set(series.flat().map((p) => p.clients))].sort((a, b) => a - b);
}

/** Values per client count; null (a gap in the line) where that count was not measured or the value is unusable. */
function valuesAt(points: readonly LoadPoint[], clients: readonly number[], pick: (p: LoadPoint) => number | null | undefined, positiveOnly = false): (number | null)[] {
  return clients.map((c) => {
    const point = points.find((p) => p.clients === c);
    const v = point ? pick(point) : null;
    // JSON turns NaN into null; a log axis cannot place zero.
    return typeof v === "number" && Number.isFinite(v) && (!positiveOnly || v > 0) ? v : null;
  });
}

function base(title: string, subtitle: string): Option {
  return {
    animation: false,
    backgroundColor: "#ffffff",
    textStyle: { fontFamily: FONT },
    title: { text: title, subtext: subtitle, left: "center", top: 8, textStyle: { fontSize: 17, fontFamily: FONT }, subtextStyle: { fontFamily: FONT, color: "#555" } },
    // ECharts measures text without a canvas by Helvetica-like widths; DejaVu Sans is wider, hence the large gap.
    legend: { ...LEGEND, bottom: 8 },
    grid: { left: 90, right: 40, top: 80, bottom: 100 },
  };
}

function axisName(text: string, gap: number) {
  return { name: text, nameLocation: "middle" as const, nameGap: gap, nameTextStyle: { fontSize: 13, fontFamily: FONT, color: "#333" } };
}

function clientAxis(clients: readonly number[]): Option["xAxis"] {
  return { type: "category", data: clients.map(String), boundaryGap: false, ...axisName("Concurrent clients", 30), axisLabel: { fontSize: 12 } };
}

/** The ways this run measured: an HTTP-only run leaves the service and pgbench arrays empty. */
const waysIn = (t: NonNullable<BenchResult["throughput"]>) => WAYS.filter((w) => t[w.key].length > 0);

function throughputOption(clients: number[], t: NonNullable<BenchResult["throughput"]>): Option {
  return {
    ...base("Scenario 1: createBooking throughput", "distinct slots, closed loop; higher is better"),
    xAxis: clientAxis(clients),
    yAxis: { type: "value", ...axisName("Bookings per second", 65), axisLabel: { fontSize: 12 }, min: 0 },
    series: waysIn(t).map((w) => ({
      type: "line" as const,
      name: w.name,
      data: valuesAt(t[w.key], clients, (p) => p.perSecond),
      color: COLOURS[w.key],
      symbolSize: 8,
      lineStyle: { width: 2.5 },
    })),
  };
}

function latencyOption(clients: number[], t: NonNullable<BenchResult["throughput"]>): Option {
  const series = waysIn(t).flatMap((w) =>
    (["p50", "p99"] as const).map((q) => ({
      type: "line" as const,
      name: `${w.name} ${q}`,
      data: valuesAt(t[w.key], clients, (p) => (q === "p50" ? p.latency.p50Ms : p.latency.p99Ms), true),
      color: COLOURS[w.key],
      symbol: q === "p50" ? "circle" : "triangle",
      symbolSize: 8,
      lineStyle: { width: 2.5, type: q === "p50" ? ("solid" as const) : ("dashed" as const) },
    })),
  );
  return {
    ...base("Scenario 1: createBooking latency", "p50 solid, p99 dashed; log scale, lower is better"),
    // Two legend rows, p50 above p99, so each row shares one line style.
    legend: (["p50", "p99"] as const).map((q, i) => ({ ...LEGEND, bottom: i === 0 ? 34 : 8, data: waysIn(t).map((w) => `${w.name} ${q}`) })),
    grid: { left: 90, right: 40, top: 80, bottom: 120 },
    xAxis: clientAxis(clients),
    yAxis: { type: "log", logBase: 10, ...axisName("Latency (ms)", 55), axisLabel: { fontSize: 12 }, minorSplitLine: { show: false } },
    series,
  };
}

/**
 * Scenario 3 as bars, p50 and p99 per measurement. With the bare ws baseline its three bars sit
 * each beside the matching Slotwise broadcast bar, in lighter shades; the spread (a few ms to about
 * a second) then needs a log axis, or the baseline bars would be slivers.
 */
function fanoutOption(f: NonNullable<BenchResult["fanout"]>): Option {
  const b = f.broadcast;
  const w = f.raw;
  // Eight categories only fit 900 px with their labels on two lines.
  const br = w ? "\n" : " ";
  const bars: [string, Distribution, boolean][] = [
    [`Mutation${br}round trip`, f.latency.mutationRoundTrip, false],
    [`Mutation${br}→ event`, f.latency.mutationToEvent, false],
  ];
  const positions = [["first", b.toFirst, w?.toFirst], ["median", b.toMedian, w?.toMedian], ["last", b.toLast, w?.toLast]] as const;
  for (const [at, mine, bare] of positions) {
    bars.push([`Broadcast:${br}${at}${at === "first" ? ` of ${b.subscribers.toLocaleString("en-US")}` : ""}`, mine, false]);
    if (bare) bars.push([`Bare ws\nbroadcast: ${at}`, bare, true]);
  }
  // A log axis cannot place zero or a missing value.
  const value = (v: number | null | undefined) => (typeof v === "number" && Number.isFinite(v) && (!w || v > 0) ? v : null);
  const label = { show: true, position: "top" as const, fontSize: 11, fontFamily: FONT, formatter: (p: { value: unknown }) => (typeof p.value === "number" ? p.value.toLocaleString("en-US", { maximumFractionDigits: 1 }) : "") };
  const series = ([["p50", "#2f6fb3", "#9dbfe3"], ["p99", "#c0504d", "#e5a9a7"]] as const).map(([q, colour, light], i) => ({
    type: "bar" as const,
    name: q,
    data: bars.map(([, d, bare]) => ({ value: value(q === "p50" ? d.p50Ms : d.p99Ms), itemStyle: { color: bare ? light : colour } })),
    color: colour,
    label,
    ...(i === 0 ? { barGap: "10%" } : {}),
  }));
  // Log bars grow from the axis' startValue (default 1): a power of ten at or below the smallest bar keeps sub-1 ms bars upright.
  const smallest = Math.min(...series.flatMap((x) => x.data.map((d) => d.value ?? Infinity)));
  const floor = Number.isFinite(smallest) ? 10 ** Math.min(0, Math.floor(Math.log10(smallest))) : 1;
  const yAxis = w ? { type: "log" as const, logBase: 10, minorSplitLine: { show: false }, min: floor, startValue: floor } : { type: "value" as const, min: 0 };
  return {
    ...base(
      "Scenario 3: live fan-out latency",
      w
        ? "acceptBooking over HTTP, events over graphql-ws via Redis; bare ws baseline in lighter bars; log scale, lower is better"
        : "acceptBooking over HTTP, events over graphql-ws via Redis; lower is better",
    ),
    grid: { left: 90, right: 40, top: 80, bottom: 100 },
    xAxis: { type: "category", data: bars.map(([name]) => name), axisLabel: { fontSize: w ? 11 : 12, interval: 0, lineHeight: 15 }, axisTick: { alignWithLabel: true } },
    yAxis: { ...yAxis, ...axisName("Latency (ms)", 55), axisLabel: { fontSize: 12 } },
    series,
  };
}

function renderSvg(option: Option): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: WIDTH, height: HEIGHT });
  try {
    chart.setOption(option);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    background: "#ffffff",
    fitTo: { mode: "width", value: WIDTH },
    // ECharts writes its own font stack (and "sans-serif"); map all of it onto the one font we know is installed.
    font: { loadSystemFonts: true, defaultFontFamily: FONT, sansSerifFamily: FONT },
  });
  return resvg.render().asPng();
}
