import { eq } from "drizzle-orm";
import type { ParsedMail } from "mailparser";
import ical, { type VEvent } from "node-ical";
import pino from "pino";
import { consumerKey } from "../../src/consumers/booking-consumer";
import { createSmtpTransport, MailNotifier } from "../../src/consumers/mail-notifier";
import type { Db } from "../../src/db/client";
import { users, type OutboxRow } from "../../src/db/schema";
import type { BookingEventEnvelope } from "../../src/events/envelope";
import { queuesFor } from "../../src/events/sqs-routing";
import { startSmtpSink, type ReceivedMail, type SmtpSink } from "../support/smtp-sink";
import { freshQueues, processedRows, queueCounts, sendEvent, useConsumers, useEmulator, waitUntilDrained } from "../support/consumer-world";
import { BACKENDS, MINUTE, makeWorld, outboxOf, useBackend, type World } from "../support/service-world";
import { bookSlot, providerWithSlots, registerUser } from "../support/service-factories";
import { waitFor } from "../support/wait";

const FROM = "Slotwise <bookings@slotwise.test>";
const silent = pino({ level: "silent" });

/** The invite of a mail: its text/calendar part parsed with node-ical. */
function inviteOf(mail: ParsedMail): { method: string; event: VEvent; ics: string } {
  const part = mail.attachments.find((a) => a.contentType === "text/calendar");
  if (!part) throw new Error(`no text/calendar part in "${mail.subject}"`);
  const ics = part.content.toString("utf8");
  const parsed = ical.sync.parseICS(ics);
  const event = Object.values(parsed).find((c): c is VEvent => c?.type === "VEVENT");
  const method = (parsed.vcalendar as { method?: string } | undefined)?.method;
  if (!event || !method) throw new Error(`no VEVENT or METHOD in the invite of "${mail.subject}"`);
  return { method, event, ics };
}

const eventIdOf = (m: ReceivedMail) => String(m.parsed.headers.get("x-slotwise-event-id"));

describe.each(BACKENDS)("e-mail with calendar invites, through a real SMTP server, on $name", (backend) => {
  const { it } = useBackend(backend);
  const { sqs } = useEmulator();
  const startConsumer = useConsumers();
  let sink: SmtpSink | undefined;
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
  });

  /** Sends the booking's committed outbox events to the queues the relay would, in commit order. */
  async function relay(db: Db, bookingId: string, queues: { bookingRequest: string; bookingEvents: string }, sent: Set<string>): Promise<BookingEventEnvelope[]> {
    const rows: OutboxRow[] = await outboxOf(db, bookingId);
    const events = rows.map((r) => r.payload as BookingEventEnvelope).filter((e) => !sent.has(e.eventId));
    for (const e of events) {
      sent.add(e.eventId);
      for (const url of queuesFor(e.eventType, queues)) await sendEvent(sqs(), url, e);
    }
    return events;
  }

  function mailConsumers(w: World, smtpUrl: string, queues: { bookingRequest: string; bookingEvents: string }) {
    const notifier = new MailNotifier(createSmtpTransport(smtpUrl), FROM, silent);
    startConsumer({ name: "provider", queueUrl: queues.bookingRequest, sqs: sqs(), db: w.db, notifier, visibilityTimeoutSeconds: 2 });
    startConsumer({ name: "customer", queueUrl: queues.bookingEvents, sqs: sqs(), db: w.db, notifier, visibilityTimeoutSeconds: 2 });
  }

  it("create -> confirm -> reschedule -> confirm -> cancel: each party's mails keep one UID, SEQUENCE grows, METHOD is REQUEST then CANCEL, and the feed agrees", async (db) => {
    const w = makeWorld(db);
    const smtp = (sink = await startSmtpSink());
    const queues = await freshQueues(sqs(), { visibilityTimeoutSeconds: 2 });
    const { owner, providerId, slots } = await providerWithSlots(w, { count: 3 });
    const customer = await registerUser(w, "CUSTOMER");
    const provider = await w.services.provider.getProvider(providerId);
    const sent = new Set<string>();
    mailConsumers(w, smtp.url, queues);

    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
    // Addresses are read when sending: the customer's new address gets the mails.
    const newAddress = `moved-${customer.userId}@example.com`;
    await db.update(users).set({ email: newAddress }).where(eq(users.id, customer.userId));
    await relay(db, booking.id, queues, sent);
    w.clock.advance(MINUTE);
    await w.services.bookingTransition.acceptBooking(owner, booking.id);
    await relay(db, booking.id, queues, sent);
    w.clock.advance(MINUTE);
    await w.services.bookingReschedule.rescheduleBooking(customer, booking.id, slots[2]!.id);
    await relay(db, booking.id, queues, sent);
    w.clock.advance(MINUTE);
    await w.services.bookingTransition.acceptBooking(owner, booking.id);
    await relay(db, booking.id, queues, sent);
    w.clock.advance(MINUTE);
    await w.services.bookingTransition.cancelBooking(customer, booking.id, "cannot make it");
    const all = [...(await outboxOf(db, booking.id))].map((r) => r.payload as BookingEventEnvelope);
    await relay(db, booking.id, queues, sent);
    // A redelivered copy (same eventId) must send no second mail.
    await sendEvent(sqs(), queues.bookingEvents, all[1]!);

    // Customer: 5 events; owner: the request, the customer's reschedule and cancellation.
    await waitFor("eight mails", () => smtp.received.length >= 8);
    await waitUntilDrained(sqs(), queues.bookingEvents);
    await waitUntilDrained(sqs(), queues.bookingRequest);
    expect(smtp.received).toHaveLength(8);

    const order = all.map((e) => e.eventId);
    const byEventOrder = (a: ReceivedMail, b: ReceivedMail) => order.indexOf(eventIdOf(a)) - order.indexOf(eventIdOf(b));
    const toCustomer = smtp.received.filter((m) => m.rcptTo.includes(newAddress)).sort(byEventOrder);
    const ownerRow = (await db.select().from(users).where(eq(users.id, owner.userId)))[0]!;
    const customerRow = (await db.select().from(users).where(eq(users.id, customer.userId)))[0]!;
    const toOwner = smtp.received.filter((m) => m.rcptTo.includes(ownerRow.email)).sort(byEventOrder);
    expect(toCustomer.map((m) => all.find((e) => e.eventId === eventIdOf(m))!.eventType)).toEqual([
      "BOOKING_CREATED",
      "BOOKING_CONFIRMED",
      "BOOKING_RESCHEDULED",
      "BOOKING_CONFIRMED",
      "BOOKING_CANCELLED",
    ]);
    expect(toOwner.map((m) => all.find((e) => e.eventId === eventIdOf(m))!.eventType)).toEqual(["BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED"]);

    for (const mails of [toCustomer, toOwner]) {
      const invites = mails.map((m) => inviteOf(m.parsed));
      expect(new Set(invites.map((i) => i.event.uid))).toEqual(new Set([`booking-${booking.id}@slotwise`]));
      const sequences = invites.map((i) => Number(i.event.sequence));
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences).size).toBe(sequences.length);
      expect(invites.map((i) => i.method)).toEqual([...invites.slice(0, -1).map(() => "REQUEST"), "CANCEL"]);
      expect(invites.at(-1)!.event.status).toBe("CANCELLED");
      // The invite is also an invite.ics attachment, and the calendar part names its method.
      for (const m of mails) {
        expect(m.parsed.attachments.some((a) => a.filename === "invite.ics")).toBe(true);
        expect(m.parsed.attachments.find((a) => a.contentType === "text/calendar")!.contentType).toBe("text/calendar");
      }
    }
    // Customer's sequences: one per history row (created 0, confirmed 1, moved 2, confirmed 3, cancelled 4).
    expect(toCustomer.map((m) => Number(inviteOf(m.parsed).event.sequence))).toEqual([0, 1, 2, 3, 4]);

    // The reschedule moves the event: its invite has the new slot's times.
    const moved = inviteOf(toCustomer[2]!.parsed).event;
    expect(new Date(moved.start).toISOString()).toBe(slots[2]!.startsAt.toISOString());
    expect(new Date(moved.end!).toISOString()).toBe(slots[2]!.endsAt.toISOString());

    // Both parts; service, provider and the other party named; the time in Berlin and in UTC.
    const confirmed = toCustomer[1]!.parsed;
    expect(confirmed.from?.text).toContain("bookings@slotwise.test");
    expect(confirmed.subject).toContain("confirmed");
    const start = slots[0]!.startsAt;
    const berlin = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(start);
    const utc = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(start);
    expect(berlin).not.toBe(utc);
    for (const body of [confirmed.text!, String(confirmed.html)]) {
      expect(body).toContain(provider!.name);
      expect(body).toContain(ownerRow.name);
      expect(body).toContain(`${berlin}-`);
      expect(body).toContain("(Europe/Berlin)");
      expect(body).toContain(`${utc}-`);
      expect(body).toContain("(UTC)");
    }
    const ownersRequest = toOwner[0]!.parsed;
    expect(ownersRequest.text).toContain(customerRow.name);
    expect(String(ownersRequest.html)).toContain(customerRow.name);
    expect(ownersRequest.text).toContain(provider!.name);

    // The feed shows the same UID and the last mail's SEQUENCE.
    const feedUrl = (await w.services.calendarFeed.feedUrl(customer, customer.userId))!;
    const feed = ical.sync.parseICS((await w.services.calendarFeed.render(feedUrl.split("/").at(-1)!))!);
    const inFeed = feed[`booking-${booking.id}@slotwise`] as VEvent;
    expect(Number(inFeed.sequence)).toBe(4);
    expect(inFeed.status).toBe("CANCELLED");
    for (const e of all) expect(await processedRows(db, consumerKey("customer"), e.eventId)).toBe(1);
  });

  it("a rejection and an expiry send METHOD:CANCEL with a higher SEQUENCE; a reminder repeats the current SEQUENCE with METHOD:REQUEST", async (db) => {
    const w = makeWorld(db);
    const smtp = (sink = await startSmtpSink());
    const queues = await freshQueues(sqs(), { visibilityTimeoutSeconds: 2 });
    const customer = await registerUser(w, "CUSTOMER");
    const confirming = await providerWithSlots(w, { count: 2 });
    const rejected = await bookSlot(w, customer, confirming.slots[0]!.id);
    const expired = await bookSlot(w, customer, confirming.slots[1]!.id);
    w.clock.advance(MINUTE);
    await w.services.bookingTransition.rejectBooking(confirming.owner, rejected.id, "Fully booked");
    w.clock.advance(16 * MINUTE);
    expect(await w.services.bookingExpiry.expireLapsedHolds()).toBe(1);
    const instant = await providerWithSlots(w, { requiresConfirmation: false, count: 1 });
    const reminded = await bookSlot(w, customer, instant.slots[0]!.id);
    w.clock.advance(MINUTE);
    // The slot starts 24 h after it was made: the 1440-minute reminder is due.
    expect(await w.services.reminder.sendDueReminders()).toBe(1);
    const sent = new Set<string>();
    const events = [
      ...(await relay(db, rejected.id, queues, sent)),
      ...(await relay(db, expired.id, queues, sent)),
      ...(await relay(db, reminded.id, queues, sent)),
    ];
    startConsumer({ name: "customer", queueUrl: queues.bookingEvents, sqs: sqs(), db, notifier: new MailNotifier(createSmtpTransport(smtp.url), FROM, silent) });

    await waitFor("seven mails", () => smtp.received.length >= 7);
    await waitUntilDrained(sqs(), queues.bookingEvents);
    expect(smtp.received).toHaveLength(7);
    const summary = (bookingId: string) =>
      events
        .filter((e) => e.bookingId === bookingId)
        .map((e) => {
          const mail = smtp.received.find((m) => eventIdOf(m) === e.eventId)!;
          const { method, event } = inviteOf(mail.parsed);
          expect(event.uid).toBe(`booking-${bookingId}@slotwise`);
          return [e.eventType, method, Number(event.sequence), event.status];
        });
    expect(summary(rejected.id)).toEqual([
      ["BOOKING_CREATED", "REQUEST", 0, "TENTATIVE"],
      ["BOOKING_REJECTED", "CANCEL", 1, "CANCELLED"],
    ]);
    expect(summary(expired.id)).toEqual([
      ["BOOKING_CREATED", "REQUEST", 0, "TENTATIVE"],
      ["BOOKING_EXPIRED", "CANCEL", 1, "CANCELLED"],
    ]);
    expect(summary(reminded.id)).toEqual([
      ["BOOKING_CREATED", "REQUEST", 0, "TENTATIVE"],
      ["BOOKING_CONFIRMED", "REQUEST", 1, "CONFIRMED"],
      ["BOOKING_REMINDER", "REQUEST", 1, "CONFIRMED"],
    ]);
    const rejection = smtp.received.find((m) => eventIdOf(m) === events.find((e) => e.eventType === "BOOKING_REJECTED")!.eventId)!.parsed;
    expect(rejection.text).toContain("Fully booked");
    const reminder = smtp.received.find((m) => eventIdOf(m) === events.find((e) => e.eventType === "BOOKING_REMINDER")!.eventId)!.parsed;
    expect(reminder.subject).toMatch(/^Reminder: /);
    expect(reminder.text).toContain("one day from now");
  });

  it("an SMTP server refusing connections leaves the message on the queue; the retry sends it once", async (db) => {
    const w = makeWorld(db);
    const smtp = (sink = await startSmtpSink({ refuseFirst: 2 }));
    const queues = await freshQueues(sqs(), { visibilityTimeoutSeconds: 1, maxReceiveCount: 5 });
    const { slots } = await providerWithSlots(w, { requiresConfirmation: false, count: 1 });
    const customer = await registerUser(w, "CUSTOMER");
    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
    const confirmed = (await outboxOf(db, booking.id)).map((r) => r.payload as BookingEventEnvelope).find((e) => e.eventType === "BOOKING_CONFIRMED")!;
    const notifier = new MailNotifier(createSmtpTransport(smtp.url), FROM, silent);
    startConsumer({ name: "customer", queueUrl: queues.bookingEvents, sqs: sqs(), db, notifier, visibilityTimeoutSeconds: 1 });

    await sendEvent(sqs(), queues.bookingEvents, confirmed);

    await waitFor("the mail arrives after the refusals", () => smtp.received.length > 0);
    await waitUntilDrained(sqs(), queues.bookingEvents);
    expect(smtp.refused()).toBe(2);
    expect(smtp.received).toHaveLength(1);
    expect(eventIdOf(smtp.received[0]!)).toBe(confirmed.eventId);
    expect(await processedRows(db, consumerKey("customer"), confirmed.eventId)).toBe(1);
  });

  it("a recipient the server refuses for good (550) is not retried, and the other party of the same event still gets their mail", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const [customerRow] = await db.select().from(users).where(eq(users.id, customer.userId));
    const smtp = (sink = await startSmtpSink({ refuseRecipient: (a) => a === customerRow!.email }));
    const queues = await freshQueues(sqs(), { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    const dlq = await queues.dlq("bookingEvents");
    const { owner, slots } = await providerWithSlots(w, { requiresConfirmation: false, count: 1 });
    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
    w.clock.advance(MINUTE);
    await w.services.bookingTransition.cancelBooking(customer, booking.id, null);
    const cancelled = (await outboxOf(db, booking.id)).map((r) => r.payload as BookingEventEnvelope).find((e) => e.eventType === "BOOKING_CANCELLED")!;
    const notifier = new MailNotifier(createSmtpTransport(smtp.url), FROM, silent);
    startConsumer({ name: "customer", queueUrl: queues.bookingEvents, sqs: sqs(), db, notifier, visibilityTimeoutSeconds: 1 });

    await sendEvent(sqs(), queues.bookingEvents, cancelled);

    await waitUntilDrained(sqs(), queues.bookingEvents);
    const [ownerRow] = await db.select().from(users).where(eq(users.id, owner.userId));
    expect(smtp.received.map((m) => m.rcptTo)).toEqual([[ownerRow!.email]]);
    expect(await processedRows(db, consumerKey("customer"), cancelled.eventId)).toBe(1);
    expect(await processedRows(db, consumerKey("provider"), cancelled.eventId)).toBe(1);
    expect(await queueCounts(sqs(), dlq)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("with SMTP down for good, the message goes to the dead-letter queue after its receives run out, and nothing is marked sent", async (db) => {
    const w = makeWorld(db);
    // A port where nothing listens: every connection is refused.
    const gone = await startSmtpSink();
    await gone.close();
    const queues = await freshQueues(sqs(), { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    const dlq = await queues.dlq("bookingEvents");
    const { slots } = await providerWithSlots(w, { count: 1 });
    const customer = await registerUser(w, "CUSTOMER");
    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
    const [created] = (await outboxOf(db, booking.id)).map((r) => r.payload as BookingEventEnvelope);
    const notifier = new MailNotifier(createSmtpTransport(gone.url), FROM, silent);
    startConsumer({ name: "customer", queueUrl: queues.bookingEvents, sqs: sqs(), db, notifier, visibilityTimeoutSeconds: 1 });

    await sendEvent(sqs(), queues.bookingEvents, created!);

    await waitFor("the message reaches the DLQ", async () => (await queueCounts(sqs(), dlq)).visible === 1);
    await waitUntilDrained(sqs(), queues.bookingEvents);
    expect(await processedRows(db, consumerKey("customer"), created!.eventId)).toBe(0);
  });
});
