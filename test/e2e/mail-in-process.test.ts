import ical, { type VEvent } from "node-ical";
import { AcceptBookingDocument, CancelBookingDocument, MyCalendarFeedUrlDocument } from "../generated/graphql";
import { addSlots, bookSlot, createProvider, registerUser } from "../support/factories";
import { executeOk } from "../support/graphql-client";
import { startSmtpSink, type ReceivedMail, type SmtpSink } from "../support/smtp-sink";
import { startTestServer, type TestServer } from "../support/test-server";
import { waitFor } from "../support/wait";

/**
 * The whole path with SMTP_URL set on the API: commit -> outbox relay -> SQS (the embedded
 * emulator) -> the API's own mail consumers -> a real SMTP server, in either mode (PGlite or
 * PostgreSQL + Redis).
 */

let sink: SmtpSink;
let server: TestServer;
beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({
    env: { OUTBOX_RELAY: "on", OUTBOX_RELAY_POLL_MS: "100", SMTP_URL: sink.url, MAIL_FROM: "Slotwise <bookings@slotwise.test>" },
  });
});
afterAll(async () => {
  await server?.close();
  await sink?.close();
});

function invite(m: ReceivedMail): { method: string; event: VEvent } {
  const part = m.parsed.attachments.find((a) => a.contentType === "text/calendar")!;
  const parsed = ical.sync.parseICS(part.content.toString("utf8"));
  const event = Object.values(parsed).find((c): c is VEvent => c?.type === "VEVENT")!;
  return { method: String((parsed.vcalendar as { method?: string }).method), event };
}

test("a booking requested, accepted and cancelled by the customer: both parties get their mails with invites, and the feed shows the last invite's SEQUENCE", async () => {
  const owner = await registerUser(server.url, "PROVIDER", "Olga Owner");
  const provider = await createProvider(server.url, owner, { name: "Harbour Physio", timeZone: "America/New_York" });
  const customer = await registerUser(server.url, "CUSTOMER", "Chris Customer");
  const [slot] = await addSlots(server.url, owner, provider.id, { count: 1 });
  const booking = await bookSlot(server.url, customer, slot!.id);
  await waitFor("the request mails", () => sink.received.length >= 2, { timeoutMs: 60_000 });
  await executeOk(server.url, AcceptBookingDocument, { id: booking.id }, owner.token);
  await waitFor("the confirmation mail", () => sink.received.length >= 3, { timeoutMs: 60_000 });
  await executeOk(server.url, CancelBookingDocument, { id: booking.id, reason: "feeling better" }, customer.token);
  await waitFor("the cancellation mails", () => sink.received.length >= 5, { timeoutMs: 60_000 });

  const toCustomer = sink.received.filter((m) => m.rcptTo.includes(customer.email));
  const toOwner = sink.received.filter((m) => m.rcptTo.includes(owner.email));
  expect(toCustomer).toHaveLength(3);
  expect(toOwner).toHaveLength(2);
  const uid = `booking-${booking.id}@slotwise`;
  const customerInvites = toCustomer.map(invite);
  expect(customerInvites.map((i) => [i.method, i.event.uid, Number(i.event.sequence), i.event.status])).toEqual([
    ["REQUEST", uid, 0, "TENTATIVE"],
    ["REQUEST", uid, 1, "CONFIRMED"],
    ["CANCEL", uid, 2, "CANCELLED"],
  ]);
  expect(toOwner.map(invite).map((i) => [i.method, i.event.uid, Number(i.event.sequence)])).toEqual([
    ["REQUEST", uid, 0],
    ["CANCEL", uid, 2],
  ]);
  expect(toOwner[0]!.parsed.subject).toContain("Chris Customer");
  expect(toOwner[1]!.parsed.text).toContain("feeling better");
  expect(toCustomer[1]!.parsed.text).toContain("(America/New_York)");
  expect(toCustomer[1]!.parsed.text).toContain("Olga Owner");

  const feedUrl = (await executeOk(server.url, MyCalendarFeedUrlDocument, {}, customer.token)).me!.calendarFeedUrl!;
  const feed = ical.sync.parseICS(await (await fetch(feedUrl)).text());
  expect(Number((feed[uid] as VEvent).sequence)).toBe(2);
  expect((feed[uid] as VEvent).status).toBe("CANCELLED");
});
