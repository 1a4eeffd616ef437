import ical, { type VEvent } from "node-ical";
import { startSmtpSink, type ReceivedMail, type SmtpSink } from "../../test/support/smtp-sink";
import { sleep } from "./graphql";
import type { Account, BookingRecord, Ledger } from "./ledger";
import type { BookingEventType, BookingStatus } from "./operations";

/**
 * The demo's e-mail check: a real SMTP server (smtp-server) receives what the server's mail
 * consumers send, and every booking's mails are compared with the demo's own record of it.
 */

export { startSmtpSink, type SmtpSink };

/** What each party must hear of (src/consumers/notification-catalog.ts; every demo change is made by the customer). */
const OWNER_HEARS: ReadonlySet<BookingEventType> = new Set(["BOOKING_CREATED", "BOOKING_CANCELLED", "BOOKING_RESCHEDULED"]);
const CALENDAR_STATUS: Record<BookingStatus, string> = {
  PENDING: "TENTATIVE",
  CONFIRMED: "CONFIRMED",
  REJECTED: "CANCELLED",
  CANCELLED: "CANCELLED",
  EXPIRED: "CANCELLED",
};

export interface MailReport {
  customerMails: number;
  ownerMails: number;
  expected: number;
  /** Bookings whose mails all match their history (UID, SEQUENCE per change, METHOD, STATUS, start). */
  bookingsMatched: number;
  bookings: number;
  problems: string[];
}

interface Invite {
  method: string;
  uid: string;
  sequence: number;
  status: string;
}

function inviteOf(mail: ReceivedMail): Invite | undefined {
  const part = mail.parsed.attachments.find((a) => a.contentType === "text/calendar");
  if (!part) return undefined;
  const parsed = ical.sync.parseICS(part.content.toString("utf8"));
  const event = Object.values(parsed).find((c): c is VEvent => c?.type === "VEVENT");
  if (!event) return undefined;
  return {
    method: String((parsed.vcalendar as { method?: string } | undefined)?.method),
    uid: event.uid,
    sequence: Number(event.sequence),
    status: String(event.status),
  };
}

/** How many mails the ledger implies: one per change to the customer, and the owner's share. */
export function expectedMails(ledger: Ledger): number {
  let n = 0;
  for (const b of ledger.bookings.values()) n += b.events.length + b.events.filter((e) => OWNER_HEARS.has(e)).length;
  return n;
}

/** Waits until `expected` mails have arrived, or `timeoutMs` passed. */
export async function waitForMails(sink: SmtpSink, expected: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (sink.received.length < expected && Date.now() < deadline) await sleep(250);
  // Any surplus (a duplicate) shows up in the comparison, so give late ones a moment.
  await sleep(1_000);
}

function checkParty(label: string, mails: readonly (Invite | undefined)[], events: readonly BookingEventType[], statuses: readonly BookingStatus[], record: BookingRecord): string[] {
  const problems: string[] = [];
  const wanted = events.map((e, i) => ({ e, i, status: statuses[i]! })).filter((x) => label === "customer" || OWNER_HEARS.has(x.e));
  if (mails.length !== wanted.length) return [`booking ${record.id}: ${label} got ${mails.length} mails, expected ${wanted.length}`];
  if (mails.some((m) => m === undefined)) return [`booking ${record.id}: a ${label} mail has no calendar invite`];
  const invites = (mails as Invite[]).slice().sort((a, b) => a.sequence - b.sequence);
  invites.forEach((inv, k) => {
    const w = wanted[k]!;
    const method = w.status === "PENDING" || w.status === "CONFIRMED" ? "REQUEST" : "CANCEL";
    const want = { uid: `booking-${record.id}@slotwise`, sequence: w.i, method, status: CALENDAR_STATUS[w.status] };
    const got = { uid: inv.uid, sequence: inv.sequence, method: inv.method, status: inv.status };
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`booking ${record.id}: ${label}'s invite for ${w.e} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  });
  return problems;
}

/**
 * Compares the mails with the ledger: per booking, the customer gets one mail per change and the
 * owner one per request, cancellation and reschedule; their invites carry the booking's UID,
 * SEQUENCE = the change's place in the history, METHOD REQUEST while active and CANCEL after.
 */
export function checkMails(sink: SmtpSink, ledger: Ledger, customers: readonly Account[], owners: ReadonlyMap<string, Account>): MailReport {
  const emailOf = new Map(customers.map((c) => [c.id, c.email]));
  const byRecipientAndUid = new Map<string, (Invite | undefined)[]>();
  for (const m of sink.received) {
    const inv = inviteOf(m);
    for (const to of m.rcptTo) {
      const key = `${to.toLowerCase()} ${inv?.uid ?? "?"}`;
      byRecipientAndUid.set(key, [...(byRecipientAndUid.get(key) ?? []), inv]);
    }
  }
  const problems: string[] = [];
  let matched = 0;
  for (const b of ledger.bookings.values()) {
    const uid = `booking-${b.id}@slotwise`;
    const customerEmail = emailOf.get(b.customerId)?.toLowerCase();
    const ownerEmail = owners.get(b.providerId)?.email.toLowerCase();
    const found = [
      ...checkParty("customer", byRecipientAndUid.get(`${customerEmail} ${uid}`) ?? [], b.events, b.statuses, b),
      ...checkParty("owner", byRecipientAndUid.get(`${ownerEmail} ${uid}`) ?? [], b.events, b.statuses, b),
    ];
    if (found.length === 0) matched++;
    problems.push(...found);
  }
  const customerEmails = new Set([...emailOf.values()].map((e) => e.toLowerCase()));
  return {
    customerMails: sink.received.filter((m) => m.rcptTo.some((r) => customerEmails.has(r.toLowerCase()))).length,
    ownerMails: sink.received.filter((m) => !m.rcptTo.some((r) => customerEmails.has(r.toLowerCase()))).length,
    expected: expectedMails(ledger),
    bookingsMatched: matched,
    bookings: ledger.bookings.size,
    problems,
  };
}
