import { DateTime } from "luxon";
import type { DemoProvider, DemoSlot, Ledger } from "./ledger";
import { describePlan, HORIZON_DAYS, MINIMUM_NOTICE_MINUTES } from "./schedules";
import type { MailReport } from "./mail";
import type { WebhookReport } from "./webhooks";
import type { ListenerReport, ServerStateReport } from "./verify";

/** Everything the summary shows. */
export interface DemoOutcome {
  target: string;
  seed: number;
  providers: readonly DemoProvider[];
  customers: number;
  ledger: Ledger;
  /** The e-mail check, when the demo ran an SMTP server for the target. */
  mail?: MailReport;
  /** The webhook check, when the server can reach the demo's receivers on 127.0.0.1. */
  webhooks?: WebhookReport;
  server: ServerStateReport;
  listeners: readonly ListenerReport[];
  raceProblems: readonly string[];
  /** Slots setSchedule/addAvailability/availableSlots produced that contradict the plans. */
  availabilityProblems: readonly string[];
  /** The final availableSlots compared with the demo's record. */
  finalAvailabilityProblems: readonly string[];
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
  return (
    o.ledger.failures.length === 0 &&
    o.server.problems.length === 0 &&
    o.raceProblems.length === 0 &&
    o.availabilityProblems.length === 0 &&
    o.finalAvailabilityProblems.length === 0 &&
    o.listeners.every((l) => l.ok) &&
    (o.mail?.problems.length ?? 0) === 0 &&
    (o.webhooks?.problems.length ?? 0) === 0
  );
}

/** The printed summary. */
export function renderSummary(o: DemoOutcome): string {
  const { ledger } = o;
  const out: string[] = [];
  const zones = new Set(o.providers.map((p) => p.timeZone));
  out.push(`Slotwise demo summary  (target: ${o.target}; seed ${o.seed})`, "");

  const scheduled = o.providers.filter((p) => p.plan.mode === "schedule");
  out.push(
    `Providers: ${o.providers.length} in ${zones.size} time zones; ${scheduled.length} publish a weekly schedule (setSchedule, local hours, ` +
      `minimum notice ${MINIMUM_NOTICE_MINUTES} min, horizon ${HORIZON_DAYS} days), ${o.providers.length - scheduled.length} publish one-off windows only (addAvailability)`,
  );
  out.push(
    table(
      ["provider", "time zone", "confirmation", "availability", "local hours, slot", "lunch", "override", "week slots", "bookings"],
      o.providers.map((p) => {
        const d = describePlan(p.plan, p.schedule);
        return [p.name, p.timeZone, p.requiresConfirmation ? "by owner" : "automatic", d.mode, d.slot, d.lunch, d.override, p.weekSlots.length, ledger.bookingsOf(p.id).length];
      }),
    ),
    `  ("week slots": availableSlots for the coming 7 days after setup; bookings go to slots starting 25 h or more ahead)`,
    `  Generated slots match every plan (grid, lunch, buffer, overrides, notice, horizon; republishing withdrew only slots that no longer fit): ${o.availabilityProblems.length === 0 ? "yes" : "NO"}`,
    `  Withdrawn by republishing: ${ledger.withdrawn.size} slots`,
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

  const raced = ledger.rescheduleRaces.reduce((n, r) => n + r.racers, 0);
  out.push(
    `Reschedules (rescheduleBooking by the booking's customer): ${ledger.reschedules.length} done of ${ledger.rescheduleAttempts.single + ledger.rescheduleAttempts.racing} attempts; ` +
      `${ledger.rescheduleRaces.length} races of ${raced} customers for one slot each, ${ledger.rescheduleConflicts.racing} lost with CONFLICT / SLOT_UNAVAILABLE`,
  );
  const providerById = new Map(o.providers.map((p) => [p.id, p]));
  const at = (p: DemoProvider | undefined, s: DemoSlot) => (p ? DateTime.fromISO(s.startsAt, { zone: p.timeZone }).toFormat("ccc dd HH:mm") : s.startsAt);
  out.push(
    table(
      ["booking", "provider", "from (local)", "to (local)", "status", "race", "final status"],
      ledger.reschedules.map((r) => {
        const p = providerById.get(r.providerId);
        return [r.bookingId.slice(0, 8), p?.name ?? r.providerId, at(p, r.fromSlot), at(p, r.toSlot), `${r.before} -> ${r.after}`, r.raced ? "won" : "-", ledger.bookings.get(r.bookingId)?.status ?? "?"];
      }),
    ),
    "",
  );

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

  if (o.mail) {
    out.push(
      `E-mail (a real SMTP server in the demo): ${o.mail.customerMails} to customers, ${o.mail.ownerMails} to providers' owners, ${o.mail.expected} expected from the bookings' histories; ` +
        `${o.mail.bookingsMatched} of ${o.mail.bookings} bookings' invites match their histories (one UID, SEQUENCE per change, REQUEST while active, CANCEL after)`,
      "",
    );
  }
  if (o.webhooks) out.push(...renderWebhooks(o.webhooks), "");
  out.push(`Phases: ${o.phases.map((p) => `${p.name} ${seconds(p.ms)}`).join(", ")}`);
  const problems = [
    ...ledger.failures.map((f) => `demo action failed: ${f}`),
    ...o.availabilityProblems.map((p) => `availability: ${p}`),
    ...o.raceProblems,
    ...o.finalAvailabilityProblems.map((p) => `final availableSlots: ${p}`),
    ...o.server.problems.map((p) => `server state: ${p}`),
    ...o.listeners.flatMap((r) => r.problems.map((p) => `${r.listener.label}: ${p}`)),
    ...(o.mail?.problems ?? []).map((p) => `e-mail: ${p}`),
    ...(o.webhooks?.problems ?? []).map((p) => `webhooks: ${p}`),
  ];
  if (problems.length > 0) {
    out.push("", `Problems (${problems.length}):`, ...problems.slice(0, 40).map((p) => `  - ${p}`));
    if (problems.length > 40) out.push(`  ... and ${problems.length - 40} more`);
  }
  out.push("");
  out.push(
    `Server state matches the demo's own record: ${o.server.problems.length === 0 && o.raceProblems.length === 0 && o.finalAvailabilityProblems.length === 0 ? "yes" : "no"}`,
  );
  out.push(`Every listener saw every change it was entitled to: ${o.listeners.every((l) => l.ok) ? "yes" : "no"}`);
  if (o.mail) out.push(`Every party's e-mail and invites match the bookings' histories: ${o.mail.problems.length === 0 ? "yes" : "no"}`);
  if (o.webhooks) out.push(`Every owner's webhook deliveries are signed and match the bookings' histories: ${o.webhooks.problems.length === 0 ? "yes" : "no"}`);
  out.push(`Elapsed: ${seconds(o.elapsedMs)}`);
  out.push(`Result: ${passed(o) ? "PASS" : "FAIL"}`);
  return out.join("\n");
}

function renderWebhooks(w: WebhookReport): string[] {
  const requests = w.rows.reduce((n, r) => n + r.requests, 0);
  return [
    `Webhooks (one endpoint per provider owner on a receiver in the demo, Standard Webhooks signatures verified with standardwebhooks): ` +
      `${requests} requests, ${w.badSignatures} with a bad signature, ${w.duplicates} repeated a webhook-id (deduplicated)`,
    table(
      ["owner", "providers", "requests", "events (distinct)", "expected", "bookings matched", "match"],
      w.rows.map((r) => [r.owner, r.providers, r.requests, r.events, r.expected, `${r.bookingsMatched} of ${r.bookings}`, r.ok ? "yes" : "NO"]),
    ),
    `  ("expected": one event per change in the histories of the owner's bookings; "bookings matched": every event type and status in commit order, nothing else)`,
  ];
}
