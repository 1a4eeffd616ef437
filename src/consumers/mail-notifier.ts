import nodemailer, { type Transporter } from "nodemailer";
import { findBookingParties, findInviteSequence, type BookingParties } from "../db/repositories/calendar.repository";
import { buildBookingInvite, describeBookingTime } from "../domain/calendar-invite";
import { SYSTEM_ACTOR, type BookingEventEnvelope } from "../events/envelope";
import type { Logger } from "../logger";
import { templateFor, type MessageFacts, type NotificationRecipient } from "./notification-catalog";
import type { Notification, Notifier, NotifyContext } from "./notifier";

/** An e-mail ready to send: both parts, and the iTIP invite for its calendar part and attachment. */
export interface ComposedMail {
  to: { name: string; address: string };
  subject: string;
  text: string;
  html: string;
  invite: { method: "REQUEST" | "CANCEL"; ics: string };
  /** RFC 5322 Message-ID, stable per (event, recipient); see {@link MailNotifier}. */
  messageId: string;
}

/**
 * Composes the message `recipient` gets for `event`, or undefined when the catalog sends none.
 * Pure: the caller reads `parties` and `sequence` from the database.
 *
 * @param sequence - the invite's SEQUENCE at this event (`findInviteSequence`)
 * @param fromAddress - the sender's address; its domain ends the Message-ID
 */
export function composeBookingMail(
  event: BookingEventEnvelope,
  recipient: NotificationRecipient,
  parties: BookingParties,
  sequence: number,
  fromAddress: string,
): ComposedMail | undefined {
  const template = templateFor(event, recipient);
  if (!template) return undefined;
  const start = new Date(event.slotStart);
  const end = new Date(event.slotEnd);
  const time = describeBookingTime(start, end, parties.timeZone);
  const self = recipient === "customer" ? parties.customer : parties.owner;
  const other = recipient === "customer" ? parties.owner : parties.customer;
  // No service entity yet: the provider's one offering carries the provider's name.
  const serviceName = parties.providerName;
  const facts: MessageFacts = {
    event,
    serviceName,
    providerName: parties.providerName,
    otherParty: { name: recipient === "customer" ? parties.providerName : other.name, email: other.email },
    localTime: time.local,
    previousLocalTime:
      event.previousSlotStart && event.previousSlotEnd
        ? describeBookingTime(new Date(event.previousSlotStart), new Date(event.previousSlotEnd), parties.timeZone).local
        : undefined,
  };
  const details: [string, string][] = [
    ["Service", serviceName],
    ["Provider", parties.providerName],
    recipient === "customer" ? ["Contact", `${parties.owner.name} <${parties.owner.email}>`] : ["Customer", `${parties.customer.name} <${parties.customer.email}>`],
    ["When", time.local],
    ["UTC", time.utc],
    ["Status", event.status],
    ["Booking", event.bookingId],
  ];
  const { text, html } = renderBody(self.name, template.lead(facts), details);
  const invite = buildBookingInvite({
    bookingId: event.bookingId,
    status: event.status,
    sequence,
    start,
    end,
    timeZone: parties.timeZone,
    serviceName,
    providerName: parties.providerName,
    organizer: { name: parties.owner.name, email: parties.owner.email },
    attendee: { name: parties.customer.name, email: parties.customer.email },
    stamp: new Date(event.timestamp),
  });
  const domain = fromAddress.split("@")[1]?.replace(/[^A-Za-z0-9.-]/g, "") || "slotwise.invalid";
  return {
    to: { name: self.name, address: self.email },
    subject: template.subject(facts),
    text,
    html,
    invite,
    messageId: `<${event.eventId}.${recipient}@${domain}>`,
  };
}

/** The text and HTML parts: a greeting, the template's paragraphs, then the details as a list (text) or table (HTML). */
function renderBody(name: string, lead: readonly string[], details: readonly [string, string][]): { text: string; html: string } {
  const text = [`Hello ${name},`, "", ...lead.flatMap((p) => [p, ""]), ...details.map(([k, v]) => `${k}: ${v}`), ""].join("\n");
  const html = [
    `<p>Hello ${escapeHtml(name)},</p>`,
    ...lead.map((p) => `<p>${escapeHtml(p)}</p>`),
    "<table>",
    ...details.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    "</table>",
  ].join("\n");
  return { text, html };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** SMTP timeouts, ms: a server that does not answer fails the send, and the message is retried. */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/**
 * Sends notifications as e-mail through SMTP (nodemailer), each with a plain-text and an HTML
 * part and an iTIP invite (RFC 5546): a `text/calendar; method=…` alternative plus an `invite.ics`
 * attachment, METHOD:REQUEST while the booking is active and METHOD:CANCEL once it ended, UID
 * per booking, SEQUENCE from the booking's history (so later changes supersede earlier mails).
 *
 * Names and addresses are read when sending, through the consumer's transaction. A recipient the
 * server refuses for good (5xx to RCPT TO) is logged and counts as handled. Any other failed send
 * (SMTP down, refusing connections, a 4xx) throws: the consumer rolls its processed-event marker back and leaves the
 * message for SQS to redeliver, and the queue's redrive policy dead-letters it when its receives
 * run out.
 *
 * Delivery is at least once. The send happens inside the transaction that inserts the marker
 * and the commit follows it at once, so a repeat needs a crash (or a lost database connection)
 * in the moment between the SMTP server's acceptance and that commit. Such a repeat carries the
 * same Message-ID (mail stores and clients that deduplicate on it show one), and its invite the
 * same UID and SEQUENCE, so a calendar keeps one event.
 */
export class MailNotifier implements Notifier {
  private readonly fromAddress: string;

  /**
   * @param transport - a nodemailer transport (see {@link createSmtpTransport})
   * @param from - RFC 5322 sender, `Name <address>` or an address
   */
  constructor(
    private readonly transport: Transporter,
    private readonly from: string,
    private readonly log: Logger,
  ) {
    this.fromAddress = /<([^>]+)>/.exec(from)?.[1] ?? from;
  }

  async notify(notification: Notification, ctx: NotifyContext): Promise<void> {
    const { event } = ctx;
    const parties = await findBookingParties(ctx.db, event.providerId, event.userId);
    if (!parties) {
      // Nothing to address: retrying cannot help, so the event is recorded as handled.
      this.log.warn({ eventId: event.eventId, bookingId: event.bookingId }, "no provider or customer for this booking: no e-mail sent");
      return;
    }
    const sequence = await findInviteSequence(ctx.db, {
      bookingId: event.bookingId,
      at: new Date(event.timestamp),
      status: event.status,
      previousStatus: event.previousStatus,
      actorId: event.actorId === SYSTEM_ACTOR ? null : event.actorId,
      reason: event.reason,
    });
    const mail = composeBookingMail(event, notification.recipient, parties, sequence, this.fromAddress);
    if (!mail) return;
    let info;
    try {
      info = await this.transport.sendMail({
      from: this.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: mail.messageId,
      icalEvent: { method: mail.invite.method, filename: "invite.ics", content: mail.invite.ics },
      headers: { "X-Slotwise-Event-Id": event.eventId },
      });
    } catch (err) {
      if (!isPermanentRecipientRefusal(err)) throw err;
      // A 5xx to RCPT TO (no such mailbox, ...) stays so on every retry: record it and go on.
      this.log.error({ err, eventId: event.eventId, recipient: notification.recipient, to: mail.to.address }, "the mail server refused the recipient permanently: not retried");
      return;
    }
    this.log.info(
      { eventId: event.eventId, eventType: event.eventType, recipient: notification.recipient, messageId: info.messageId, method: mail.invite.method, sequence },
      `e-mailed ${notification.recipient}: ${event.eventType} for booking ${event.bookingId}`,
    );
  }
}

/**
 * Whether a nodemailer send failed because the server refused the recipient with a permanent
 * (5xx) reply (RFC 5321 §4.2.1), as opposed to a connection failure or a transient (4xx) one.
 */
export function isPermanentRecipientRefusal(err: unknown): boolean {
  const e = err as { code?: string; responseCode?: number; command?: string } | null;
  return e?.code === "EENVELOPE" && e.command === "RCPT TO" && typeof e.responseCode === "number" && e.responseCode >= 500 && e.responseCode < 600;
}

/** A nodemailer SMTP transport for `smtpUrl` (smtp:// or smtps://, credentials in the URL). */
export function createSmtpTransport(smtpUrl: string): Transporter {
  const url = new URL(smtpUrl);
  return nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === "smtps:" ? 465 : 587,
    secure: url.protocol === "smtps:",
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    ...SMTP_TIMEOUTS,
  });
}
