import type { OutboxRow } from "../../src/db/schema";
import { bookingEventEnvelopeSchema, type BookingEventEnvelope } from "../../src/events/envelope";
import { BACKENDS, HOLD_MINUTES, MINUTE, bookingRow, countRows, historyOf, makeWorld, outboxOf, rejection, slotStatus, useBackend } from "../support/service-world";
import { bookSlot, providerWithSlots, registerUser } from "../support/service-factories";

/** Validates an outbox row against the published envelope schema (no extra or missing fields). */
function envelopeOf(row: OutboxRow): BookingEventEnvelope {
  const parsed = bookingEventEnvelopeSchema.strict().parse(row.payload);
  expect(row.eventId).toBe(parsed.eventId);
  expect(row.eventType).toBe(parsed.eventType);
  expect(row.bookingId).toBe(parsed.bookingId);
  expect(row.publishedAt).toBeNull();
  return parsed;
}

describe.each(BACKENDS)("booking lifecycle through the services on $name", (backend) => {
  const { it } = useBackend(backend);

  it("create -> accept -> cancel: slot, history and outbox follow each step exactly", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { owner, providerId, slots } = await providerWithSlots(w);
    const slot = slots[0]!;
    expect(await slotStatus(db, slot.id)).toBe("AVAILABLE");

    const t0 = w.clock.now();
    const { booking, created } = await w.services.bookingCreate.createBooking(customer, { slotId: slot.id });
    expect(created).toBe(true);
    expect(booking).toMatchObject({ status: "PENDING", slotId: slot.id, providerId, customerId: customer.userId });
    expect(booking.holdExpiresAt).toEqual(new Date(t0.getTime() + HOLD_MINUTES * MINUTE));
    expect(await slotStatus(db, slot.id)).toBe("HELD");

    w.clock.advance(5 * MINUTE);
    const t1 = w.clock.now();
    const accepted = await w.services.bookingTransition.acceptBooking(owner, booking.id);
    expect(accepted.status).toBe("CONFIRMED");
    expect(accepted.holdExpiresAt).toBeNull();
    expect(await slotStatus(db, slot.id)).toBe("BOOKED");

    w.clock.advance(60 * MINUTE);
    const t2 = w.clock.now();
    const cancelled = await w.services.bookingTransition.cancelBooking(customer, booking.id, "  change of plans  ");
    expect(cancelled.status).toBe("CANCELLED");
    expect(cancelled.reason).toBe("change of plans");
    expect(await slotStatus(db, slot.id)).toBe("AVAILABLE");

    expect(await historyOf(db, booking.id)).toEqual([
      { from: null, to: "PENDING", actor: customer.userId, reason: null, at: t0 },
      { from: "PENDING", to: "CONFIRMED", actor: owner.userId, reason: null, at: t1 },
      { from: "CONFIRMED", to: "CANCELLED", actor: customer.userId, reason: "change of plans", at: t2 },
    ]);

    const events = (await outboxOf(db, booking.id)).map(envelopeOf);
    const common = {
      version: 1,
      bookingId: booking.id,
      providerId,
      slotId: slot.id,
      userId: customer.userId,
      slotStart: slot.startsAt.toISOString(),
      slotEnd: slot.endsAt.toISOString(),
    };
    expect(events).toEqual([
      { ...common, eventId: expect.any(String), eventType: "BOOKING_CREATED", timestamp: t0.toISOString(), status: "PENDING", previousStatus: null, actorId: customer.userId, reason: null },
      {
        ...common,
        eventId: expect.any(String),
        eventType: "BOOKING_CONFIRMED",
        timestamp: t1.toISOString(),
        status: "CONFIRMED",
        previousStatus: "PENDING",
        actorId: owner.userId,
        reason: null,
        acceptedAt: t1.toISOString(),
      },
      { ...common, eventId: expect.any(String), eventType: "BOOKING_CANCELLED", timestamp: t2.toISOString(), status: "CANCELLED", previousStatus: "CONFIRMED", actorId: customer.userId, reason: "change of plans" },
    ]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(3);
  });

  it("a provider that does not require confirmation confirms at once, as the system", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { providerId, slots } = await providerWithSlots(w, { requiresConfirmation: false });
    const slot = slots[1]!;
    const now = w.clock.now();

    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slot.id });
    expect(booking.status).toBe("CONFIRMED");
    expect(booking.holdExpiresAt).toBeNull();
    expect(await slotStatus(db, slot.id)).toBe("BOOKED");

    const history = await historyOf(db, booking.id);
    expect(history.map(({ from, to, actor }) => ({ from, to, actor }))).toEqual([
      { from: null, to: "PENDING", actor: customer.userId },
      { from: "PENDING", to: "CONFIRMED", actor: null },
    ]);
    expect(history[1]!.reason).toEqual(expect.any(String));

    const events = (await outboxOf(db, booking.id)).map(envelopeOf);
    expect(events.map((e) => [e.eventType, e.previousStatus, e.status, e.actorId])).toEqual([
      ["BOOKING_CREATED", null, "PENDING", customer.userId],
      ["BOOKING_CONFIRMED", "PENDING", "CONFIRMED", "system"],
    ]);
    expect(events[1]!.acceptedAt).toBe(now.toISOString());
    expect(events[0]!.acceptedAt).toBeUndefined();
    for (const e of events) expect(e).toMatchObject({ providerId, slotId: slot.id, userId: customer.userId, slotStart: slot.startsAt.toISOString() });
  });

  it("reject releases the slot, records the reason, and the slot can be booked again", async (db) => {
    const w = makeWorld(db);
    const first = await registerUser(w, "CUSTOMER");
    const second = await registerUser(w, "CUSTOMER");
    const { owner, slots } = await providerWithSlots(w);
    const slot = slots[0]!;
    const { booking } = await w.services.bookingCreate.createBooking(first, { slotId: slot.id });

    const rejected = await w.services.bookingTransition.rejectBooking(owner, booking.id, "fully booked that day");
    expect(rejected).toMatchObject({ status: "REJECTED", reason: "fully booked that day", holdExpiresAt: null });
    expect(await slotStatus(db, slot.id)).toBe("AVAILABLE");
    expect((await historyOf(db, booking.id)).at(-1)).toMatchObject({ from: "PENDING", to: "REJECTED", actor: owner.userId, reason: "fully booked that day" });
    const last = envelopeOf((await outboxOf(db, booking.id)).at(-1)!);
    expect(last).toMatchObject({ eventType: "BOOKING_REJECTED", status: "REJECTED", previousStatus: "PENDING", actorId: owner.userId, reason: "fully booked that day" });
    expect(last.acceptedAt).toBeUndefined();

    const again = await w.services.bookingCreate.createBooking(second, { slotId: slot.id });
    expect(again.booking.id).not.toBe(booking.id);
    expect(await slotStatus(db, slot.id)).toBe("HELD");
  });

  it("the provider's owner may cancel a PENDING booking; the slot is released", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { owner, slots } = await providerWithSlots(w);
    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
    await w.services.bookingTransition.cancelBooking(owner, booking.id, null);
    expect(await slotStatus(db, slots[0]!.id)).toBe("AVAILABLE");
    expect((await historyOf(db, booking.id)).at(-1)).toMatchObject({ from: "PENDING", to: "CANCELLED", actor: owner.userId, reason: null });
  });

  it("an illegal transition is INVALID_TRANSITION and writes nothing", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { owner, slots } = await providerWithSlots(w);
    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
    await w.services.bookingTransition.cancelBooking(customer, booking.id, "no longer needed");

    const before = await countRows(db);
    for (const attempt of [
      () => w.services.bookingTransition.cancelBooking(customer, booking.id),
      () => w.services.bookingTransition.acceptBooking(owner, booking.id),
      () => w.services.bookingTransition.rejectBooking(owner, booking.id, "too late"),
    ]) {
      expect(await rejection(attempt)).toMatchObject({ code: "CONFLICT", reason: "INVALID_TRANSITION" });
    }
    expect(await countRows(db)).toEqual(before);
    expect(await bookingRow(db, booking.id)).toMatchObject({ status: "CANCELLED", reason: "no longer needed" });
    expect(await slotStatus(db, slots[0]!.id)).toBe("AVAILABLE");
  });

  it("accepting after the hold lapsed is HOLD_EXPIRED and changes nothing; just before, it works", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { owner, slots } = await providerWithSlots(w, { count: 2 });
    const late = await bookSlot(w, customer, slots[0]!.id);
    const onTime = await bookSlot(w, customer, slots[1]!.id);

    w.clock.advance(HOLD_MINUTES * MINUTE - 1);
    expect((await w.services.bookingTransition.acceptBooking(owner, onTime.id)).status).toBe("CONFIRMED");

    w.clock.advance(1); // now exactly at holdExpiresAt: the hold has run out
    const before = await countRows(db);
    const lateRow = await bookingRow(db, late.id);
    expect(await rejection(() => w.services.bookingTransition.acceptBooking(owner, late.id))).toMatchObject({ code: "CONFLICT", reason: "HOLD_EXPIRED" });
    expect(await countRows(db)).toEqual(before);
    expect(await bookingRow(db, late.id)).toEqual(lateRow);
    expect(await slotStatus(db, slots[0]!.id)).toBe("HELD");
    expect(await historyOf(db, late.id)).toHaveLength(1);
  });

  it("authorisation: a customer cannot accept, a stranger sees NOT_FOUND; neither writes anything", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const stranger = await registerUser(w, "CUSTOMER");
    const otherOwner = await registerUser(w, "PROVIDER");
    const { slots } = await providerWithSlots(w);
    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
    const before = await countRows(db);

    expect(await rejection(() => w.services.bookingTransition.acceptBooking(customer, booking.id))).toMatchObject({ code: "FORBIDDEN" });
    expect(await rejection(() => w.services.bookingTransition.cancelBooking(stranger, booking.id))).toMatchObject({ code: "NOT_FOUND" });
    expect(await rejection(() => w.services.bookingTransition.rejectBooking(otherOwner, booking.id))).toMatchObject({ code: "NOT_FOUND" });
    expect(await rejection(() => w.services.bookingTransition.cancelBooking(null, booking.id))).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(await countRows(db)).toEqual(before);
    expect((await bookingRow(db, booking.id))!.status).toBe("PENDING");
  });
});
