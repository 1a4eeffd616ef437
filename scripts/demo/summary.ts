import type { DemoProvider, Ledger } from "./ledger";
import type { ListenerReport, ServerStateReport } from "./verify";

/** Everything the summary shows. */
export interface DemoOutcome {
  target: string;
  seed: number;
  providers: readonly DemoProvider[];
  customers: number;
  ledger: Ledger;
  server: ServerStateReport;
  listeners: readonly ListenerReport[];
  raceProblems: readonly string[];
  quietWaitMs: number;
  phases: readonly { name: string; ms: number }[];
  elapsedMs: number;
}

/** Renders rows as an aligned text table; numeric columns are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === "number"));
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) => "  " + r.map((v, c) => (numeric[c] ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join("  ").trimEnd();
  return [line(header), "  " + widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The whole verdict: the demo passes only when this is true. */
export function passed(o: DemoOutcome): boolean {
  return o.ledger.failures.length === 0 && o.server.problems.length === 0 && o.raceProblems.length === 0 && o.listeners.every((l) => l.ok);
}

/** The printed summary. */
export function renderSummary(o: DemoOutcome): string {
  const { ledger } = o;
  const out: string[] = [];
  const zones = new Set(o.providers.map((p) => p.timeZone));
  out.push(`Slotwise demo summary  (target: ${o.target}; seed ${o.seed})`, "");

  out.push(`Providers: ${o.providers.length} in ${zones.size} time zones, Mon-Fri 09:00-17:00 local, 30-minute slots`);
  out.push(
    table(
      ["provider", "time zone", "confirmation", "slots", "bookings"],
      o.providers.map((p) => [p.name, p.timeZone, p.requiresConfirmation ? "by owner" : "automatic", p.slots.length, ledger.bookingsOf(p.id).length]),
    ),
    "",
  );

  const attempts = ledger.attempts.popular + ledger.attempts.other;
  const conflicts = ledger.conflicts.popular + ledger.conflicts.other;
  out.push(`Customers registered: ${o.customers}`);
  out.push(
    `Booking attempts: ${attempts} (${ledger.attempts.popular} racing for popular slots, ${ledger.attempts.other} for other slots); succeeded: ${ledger.bookings.size}`,
  );
  out.push(
    `Conflicts lost (CONFLICT / SLOT_UNAVAILABLE): ${conflicts} total; ${ledger.conflicts.popular} on popular slots, ${ledger.conflicts.other} on other slots`,
  );
  out.push(`Owner and customer actions: ${ledger.actions.accepted} accepted, ${ledger.actions.rejected} rejected, ${ledger.actions.cancelled} cancelled`, "");

  out.push(`Bookings by status (from the server: providerBookings of every provider, ${o.server.total} bookings)`);
  out.push(table(["status", "bookings"], Object.entries(o.server.byStatus).map(([s, n]) => [s, n])), "");

  out.push(`Live listeners (graphql-ws): ${o.listeners.length}; waited ${seconds(o.quietWaitMs)} for them to go quiet`);
  out.push(
    table(
      ["listener", "subscription", "received", "entitled", "saw every change"],
      o.listeners.map((r) => [r.listener.label, r.listener.kind, r.received, r.expected, r.ok ? "yes" : "NO"]),
    ),
    "",
  );

  out.push(`Phases: ${o.phases.map((p) => `${p.name} ${seconds(p.ms)}`).join(", ")}`);
  const problems = [
    ...ledger.failures.map((f) => `demo action failed: ${f}`),
    ...o.raceProblems,
    ...o.server.problems.map((p) => `server state: ${p}`),
    ...o.listeners.flatMap((r) => r.problems.map((p) => `${r.listener.label}: ${p}`)),
  ];
  if (problems.length > 0) {
    out.push("", `Problems (${problems.length}):`, ...problems.slice(0, 40).map((p) => `  - ${p}`));
    if (problems.length > 40) out.push(`  ... and ${problems.length - 40} more`);
  }
  out.push("");
  out.push(`Server state matches the demo's own record: ${o.server.problems.length === 0 && o.raceProblems.length === 0 ? "yes" : "no"}`);
  out.push(`Every listener saw every change it was entitled to: ${o.listeners.every((l) => l.ok) ? "yes" : "no"}`);
  out.push(`Elapsed: ${seconds(o.elapsedMs)}`);
  out.push(`Result: ${passed(o) ? "PASS" : "FAIL"}`);
  return out.join("\n");
}
