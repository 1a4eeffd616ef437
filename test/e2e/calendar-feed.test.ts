import { randomBytes } from "node:crypto";
import ical, { type VEvent } from "node-ical";
import type { Clock } from "../../src/domain/clock";
import {
  AcceptBookingDocument,
  BookingCustomerFeedUrlDocument,
  CancelBookingDocument,
  MyCalendarFeedUrlDocument,
  RejectBookingDocument,
  RescheduleBookingDocument,
  RotateCalendarFeedUrlDocument,
} from "../generated/graphql";
import { addSlots, bookSlot, createProvider, futureHour, registerUser, type TestUser } from "../support/factories";
import { errorCode, execute, executeOk } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/** Real time plus an offset, so a test can let bookings fall 30 days into the past. */
class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

const DAY = 24 * 3_600_000;
const clock = new ShiftedClock();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  clock.offsetMs = 0;
});

const feedUrlOf = async (user: TestUser) => (await executeOk(server.url, MyCalendarFeedUrlDocument, {}, user.token)).me!.calendarFeedUrl!;

/** GETs the feed without credentials and parses it with node-ical; the VEVENTs by UID. */
async function readFeed(url: string): Promise<Map<string, VEvent>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/calendar/);
  const body = await res.text();
  expect(body).toMatch(/^BEGIN:VCALENDAR\r\n/);
  const parsed = ical.sync.parseICS(body);
  const events = new Map<string, VEvent>();
  for (const c of Object.values(parsed)) if (c?.type === "VEVENT") events.set(c.uid, c);
  return events;
}

const uidOf = (bookingId: string) => `booking-${bookingId}@slotwise`;

test("the feed has one VEVENT per booking with the status, times and SEQUENCE of its history, for the customer and the provider's owner", async () => {
  const owner = await registerUser(server.url, "PROVIDER", "Dr Owner");
  const p1 = await createProvider(server.url, owner, { name: "North Clinic" });
  const p2 = await createProvider(server.url, owner, { name: "South Clinic", requiresConfirmation: false });
  const customer = await registerUser(server.url, "CUSTOMER", "Carla Customer");
  const stranger = await registerUser(server.url, "CUSTOMER");
  const s1 = await addSlots(server.url, owner, p1.id, { start: futureHour(48), count: 3 });
  const s2 = await addSlots(server.url, owner, p2.id, { start: futureHour(72), count: 1 });
  const s3 = await addSlots(server.url, owner, p1.id, { start: futureHour(96), count: 1 });

  // created (PENDING), accepted, rescheduled: three history rows
  const moved = await bookSlot(server.url, customer, s1[0]!.id);
  await executeOk(server.url, AcceptBookingDocument, { id: moved.id }, owner.token);
  const rescheduled = (await executeOk(server.url, RescheduleBookingDocument, { id: moved.id, slotId: s1[2]!.id }, customer.token)).rescheduleBooking;
  const pending = await bookSlot(server.url, customer, s1[1]!.id);
  const autoConfirmed = await bookSlot(server.url, customer, s2[0]!.id);
  const cancelled = await bookSlot(server.url, customer, s3[0]!.id);
  await executeOk(server.url, CancelBookingDocument, { id: cancelled.id, reason: "changed plans" }, customer.token);
  const theirs = await bookSlot(server.url, stranger, s3[0]!.id);
  await executeOk(server.url, RejectBookingDocument, { id: theirs.id, reason: "full" }, owner.token);

  const mine = await readFeed(await feedUrlOf(customer));
  expect([...mine.keys()].sort()).toEqual([moved.id, pending.id, autoConfirmed.id, cancelled.id].map(uidOf).sort());

  const m = mine.get(uidOf(moved.id))!;
  // This provider confirms every booking, so a moved booking waits for confirmation again.
  expect(rescheduled.status).toBe("PENDING");
  expect(m.status).toBe("TENTATIVE");
  // The reschedule moved the same event: its new slot's times, SEQUENCE = history rows - 1.
  expect(new Date(m.start).toISOString()).toBe(rescheduled.slot.startsAt);
  expect(new Date(m.end!).toISOString()).toBe(rescheduled.slot.endsAt);
  expect(rescheduled.history).toHaveLength(3);
  expect(Number(m.sequence)).toBe(2);
  expect(m.summary).toBe("North Clinic");
  expect(mine.get(uidOf(pending.id))!.status).toBe("TENTATIVE");
  expect(Number(mine.get(uidOf(pending.id))!.sequence)).toBe(0);
  expect(mine.get(uidOf(autoConfirmed.id))!.status).toBe("CONFIRMED");
  // Created and confirmed in one commit: two history rows.
  expect(Number(mine.get(uidOf(autoConfirmed.id))!.sequence)).toBe(1);
  expect(mine.get(uidOf(cancelled.id))!.status).toBe("CANCELLED");
  expect(Number(mine.get(uidOf(cancelled.id))!.sequence)).toBe(1);

  // The owner's feed: every booking of both of their providers, the stranger's rejected one too.
  const owners = await readFeed(await feedUrlOf(owner));
  expect([...owners.keys()].sort()).toEqual([moved.id, pending.id, autoConfirmed.id, cancelled.id, theirs.id].map(uidOf).sort());
  expect(owners.get(uidOf(theirs.id))!.status).toBe("CANCELLED");
  for (const [uid, e] of mine) {
    expect(owners.get(uid)!.sequence).toBe(e.sequence);
    expect(owners.get(uid)!.status).toBe(e.status);
  }

  // The stranger sees only their own booking.
  expect([...(await readFeed(await feedUrlOf(stranger))).keys()]).toEqual([uidOf(theirs.id)]);
});

test("calendarFeedUrl is stable, readable only by the user themself; rotating it makes the old URL answer 404", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner);
  const customer = await registerUser(server.url, "CUSTOMER");
  const [slot] = await addSlots(server.url, owner, provider.id, { count: 1 });
  const booking = await bookSlot(server.url, customer, slot!.id);

  const first = await feedUrlOf(customer);
  expect(first).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/calendar/[A-Za-z0-9_-]{43}\\.ics$`));
  expect(await feedUrlOf(customer)).toBe(first);
  // The provider's owner sees the customer through the booking, but not their feed.
  const seen = await executeOk(server.url, BookingCustomerFeedUrlDocument, { id: booking.id }, owner.token);
  expect(seen.booking!.customer).toEqual({ id: customer.id, calendarFeedUrl: null });
  expect(errorCode(await execute(server.url, RotateCalendarFeedUrlDocument, {}))).toBe("UNAUTHENTICATED");

  const rotated = (await executeOk(server.url, RotateCalendarFeedUrlDocument, {}, customer.token)).rotateCalendarFeedUrl;
  expect(rotated).not.toBe(first);
  expect(await feedUrlOf(customer)).toBe(rotated);
  expect((await fetch(first)).status).toBe(404);
  expect([...(await readFeed(rotated)).keys()]).toEqual([uidOf(booking.id)]);
  // Guessed and malformed tokens get the same answer as a rotated one.
  const origin = new URL(first).origin;
  expect((await fetch(`${origin}/calendar/${randomBytes(32).toString("base64url")}.ics`)).status).toBe(404);
  expect((await fetch(`${origin}/calendar/short.ics`)).status).toBe(404);
});

test("the feed reaches 30 days back: an older booking drops out of it", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner);
  const customer = await registerUser(server.url, "CUSTOMER");
  const [slot] = await addSlots(server.url, owner, provider.id, { start: futureHour(24), count: 1 });
  const booking = await bookSlot(server.url, customer, slot!.id);
  const url = await feedUrlOf(customer);

  clock.offsetMs = 29 * DAY;
  expect([...(await readFeed(url)).keys()]).toEqual([uidOf(booking.id)]);
  clock.offsetMs = 32 * DAY;
  expect((await readFeed(url)).size).toBe(0);
});
