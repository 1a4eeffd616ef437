/** Formatting for the benchmark report: every formatter prints "—" for a missing or non-finite figure. */
// JSON turns NaN into null, so every formatter takes null/undefined and prints a dash for it.
export type Num = number | null | undefined;
export const ok = (n: Num): n is number => typeof n === "number" && Number.isFinite(n);

/** `n` with exactly `decimals` decimals and thousands separators, or "—". */
export function num(n: Num, decimals = 0): string {
  return ok(n) ? n.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals }) : "—";
}
/** Milliseconds: 0.1 ms resolution (Distribution's), finer below 1 ms (pgbench), none above a second where it is noise. */
export const ms = (n: Num) => (!ok(n) ? "—" : Math.abs(n) >= 1000 ? num(n, 0) : Math.abs(n) < 1 ? num(n, 2) : num(n, 1));
/** Rates (per second): about three significant figures, no trailing zeros (a configured 50/s stays "50"). */
export function rate(n: Num): string {
  if (!ok(n)) return "—";
  const decimals = Math.abs(n) < 10 ? 2 : Math.abs(n) < 100 ? 1 : 0;
  return n.toLocaleString("en-US", { maximumFractionDigits: decimals });
}
export const ratio = (n: Num) => (ok(n) ? `${num(n, 2)}×` : "—");
export const mib = (bytes: Num) => (ok(bytes) ? num(bytes / 2 ** 20, 1) : "—");
export const kib = (bytes: Num) => (ok(bytes) ? num(bytes / 1024, 1) : "—");
export const seconds = (n: Num) => num(n, ok(n) && Math.abs(n) < 1 ? 2 : 1);
/** An ISO instant as "2026-11-02 10:15:03 UTC"; anything unparsable as given. */
export const instant = (iso: string) => (Number.isNaN(Date.parse(iso)) ? iso : `${new Date(iso).toISOString().slice(0, 19).replace("T", " ")} UTC`);
export const mark = (b: boolean | undefined) => (b ? "✓ yes" : "✗ **no**");
export const div = (a: Num, b: Num) => (ok(a) && ok(b) && b !== 0 ? a / b : null);

/** A GitHub-flavoured Markdown table; the first `left` columns are left-aligned, the rest right-aligned (numbers). */
export function table(header: readonly string[], rows: readonly (readonly string[])[], left = 1): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const line = (r: readonly string[]) => `| ${r.map(cell).join(" | ")} |`;
  return [line(header), `|${header.map((_, i) => (i < left ? "---" : "---:")).join("|")}|`, ...rows.map(line)].join("\n");
}
