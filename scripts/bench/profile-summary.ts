import { readFileSync } from "node:fs";

/** The parts of a V8 `.cpuprofile` (as `node --cpu-prof` writes it) this summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one function or one group, in ms and as a share of all sampled time. */
export interface ProfileEntry {
  name: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of samples where the process was idle (waiting on I/O). */
  idleShare: number;
  /** Self time grouped by where the code lives: a package under node_modules, the project's own src/, or node internals. */
  byPackage: ProfileEntry[];
  /** The heaviest functions by self time. */
  byFunction: ProfileEntry[];
}

/** node_modules/<pkg> (or @scope/pkg), src/<dir>, node:internal, or V8's own pseudo-frames. */
function groupOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith("node:")) return url.split("/").slice(0, 2).join("/");
  const src = url.indexOf("/dist/");
  return src >= 0 ? url.slice(src + "/dist/".length).split("/").slice(0, 2).join("/") : url;
}

/**
 * Sums a V8 CPU profile's samples into self time per function and per package. Sample
 * durations come from `timeDeltas` (µs), so the figures are ms of CPU the process spent there.
 */
export function summariseProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === "(idle)") idleUs += us;
    const where = url ? `${url.replace(/^.*\/(node_modules|dist)\//, "$1/")}:${lineNumber + 1}` : "";
    const key = `${functionName || "(anonymous)"} ${where}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + us);
    const group = groupOf(url, functionName);
    pkg.set(group, (pkg.get(group) ?? 0) + us);
  }
  const entries = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, share: Math.round((us / totalUs) * 1000) / 1000 }));
  return { file, totalMs: Math.round(totalUs / 1000), idleShare: Math.round((idleUs / totalUs) * 1000) / 1000, byPackage: entries(pkg), byFunction: entries(fn) };
}
