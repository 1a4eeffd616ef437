import { eq } from "drizzle-orm";
import type { Db } from "../../src/db/client";
import { bookings, outbox } from "../../src/db/schema";
import type { BookingEventMessage } from "../../src/events/pubsub";
import { BACKENDS, MINUTE, listen, makeWorld, outboxOf, rejection, useBackend } from "../support/service-world";
import { createProvider, providerWithSlots, registerUser } from "../support/service-factories";
import { drain } from "../support/wait";

/**
 * What the database shows, read through the pool (not the mutation's transaction) at the
 * moment a live message is delivered. On PostgreSQL (several connections) a message
 * published before commit would race the COMMIT and typically find no outbox row; PGlite
 * serialises every query behind the open transaction, so there it only checks consistency.
 */
function observeAtDelivery(db: Db) {
  const seen: Promise<{ eventId: string; outboxRows: number; bookingStatus: string | undefined }>[] = [];
  const onMessage = (m: BookingEventMessage) => {
    seen.push(
      (async () => {
        const outboxRows = await db.$count(outbox, eq(outbox.eventId, m.event.eventId));
        const [row] = await db.select({ status: bookings.status }).from(bookings).where(eq(bookings.id, m.booking.id));
        return { eventId: m.event.eventId, outboxRows, bookingStatus: row?.status };
      })(),
    );
  };
  return { onMessage, seen: () => Promise.all(seen) };
}

describe.each(BACKENDS)("live messages from the services on $name", (backend) => {
  const { it } = useBackend(backend);

  it("each committed change reaches booking, provider and slot topics, once, in order, after commit", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { owner, providerId, slots } = await providerWithSlots(w);
    const slot = slots[0]!;
    const observer = observeAtDelivery(db);
    const byProvider = listen(w.pubSub, "PROVIDER_BOOKING_EVENTS", providerId, observer.onMessage);
    const slotEvents = listen(w.pubSub, "SLOT_EVENTS", providerId);

    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slot.id });
    await drain();
    const byBooking = listen(w.pubSub, "BOOKING_EVENTS", booking.id);
    w.clock.advance(MINUTE);
    await w.services.bookingTransition.acceptBooking(owner, booking.id);
    w.clock.advance(MINUTE);
    await w.services.bookingTransition.cancelBooking(owner, booking.id, "closed for the day");
    await drain();

    const outboxEvents = (await outboxOf(db, booking.id)).map((r) => r.payload);
    // Subscribers get exactly the committed outbox envelopes, with a booking snapshot of the same status.
    expect(byProvider.messages.map((m) => m.event)).toEqual(outboxEvents);
    expect(byProvider.messages.map((m) => [m.event.eventType, m.booking.status])).toEqual([
      ["BOOKING_CREATED", "PENDING"],
      ["BOOKING_CONFIRMED", "CONFIRMED"],
      ["BOOKING_CANCELLED", "CANCELLED"],
    ]);
    expect(byProvider.messages[2]!.booking).toMatchObject({ id: booking.id, slotId: slot.id, customerId: customer.userId, reason: "closed for the day" });
    expect(byBooking.messages.map((m) => m.event)).toEqual(outboxEvents.slice(1));
    expect(slotEvents.messages.map((m) => [m.slot.id, m.slot.status])).toEqual([
      [slot.id, "HELD"],
      [slot.id, "BOOKED"],
      [slot.id, "AVAILABLE"],
    ]);

    for (const s of await observer.seen()) {
      expect(s.outboxRows).toBe(1);
      expect(s.bookingStatus).toBeDefined();
    }
    await Promise.all([byProvider.stop(), slotEvents.stop(), byBooking.stop()]);
  });

  it("auto-confirmation publishes CREATED then CONFIRMED, both after commit", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { providerId, slots } = await providerWithSlots(w, { requiresConfirmation: false });
    const observer = observeAtDelivery(db);
    const byProvider = listen(w.pubSub, "PROVIDER_BOOKING_EVENTS", providerId, observer.onMessage);

    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
    await drain();
    expect(byProvider.messages.map((m) => [m.event.eventType, m.booking.status, m.event.actorId])).toEqual([
      ["BOOKING_CREATED", "PENDING", customer.userId],
      ["BOOKING_CONFIRMED", "CONFIRMED", "system"],
    ]);
    for (const s of await observer.seen()) expect(s).toMatchObject({ outboxRows: 1, bookingStatus: "CONFIRMED" });
    expect(byProvider.messages.every((m) => m.booking.id === booking.id)).toBe(true);
    await byProvider.stop();
  });

  it("failed mutations publish nothing", async (db) => {
    const w = makeWorld(db);
    const first = await registerUser(w, "CUSTOMER");
    const second = await registerUser(w, "CUSTOMER");
    const { owner, providerId, slots } = await providerWithSlots(w);
    const { booking } = await w.services.bookingCreate.createBooking(first, { slotId: slots[0]!.id, idempotencyKey: "once" });
    await drain();

    const byProvider = listen(w.pubSub, "PROVIDER_BOOKING_EVENTS", providerId);
    const byBooking = listen(w.pubSub, "BOOKING_EVENTS", booking.id);
    const slotEvents = listen(w.pubSub, "SLOT_EVENTS", providerId);

    // Lost slot, idempotent replay, key reuse, forbidden accept, overlapping availability, lapsed hold, illegal transition.
    await rejection(() => w.services.bookingCreate.createBooking(second, { slotId: slots[0]!.id }));
    expect((await w.services.bookingCreate.createBooking(first, { slotId: slots[0]!.id, idempotencyKey: "once" })).created).toBe(false);
    await rejection(() => w.services.bookingCreate.createBooking(first, { slotId: slots[1]!.id, idempotencyKey: "once" }));
    await rejection(() => w.services.bookingTransition.acceptBooking(first, booking.id));
    await rejection(() => w.services.provider.addAvailability(owner, { providerId, startsAt: slots[0]!.startsAt, endsAt: slots[1]!.endsAt, slotMinutes: 30 }));
    w.clock.advance(20 * MINUTE);
    expect(await rejection(() => w.services.bookingTransition.acceptBooking(owner, booking.id))).toMatchObject({ reason: "HOLD_EXPIRED" });
    await w.services.bookingTransition.rejectBooking(owner, booking.id, "too late");
    await drain();
    const afterReject = byProvider.messages.length;
    await rejection(() => w.services.bookingTransition.cancelBooking(first, booking.id));
    await drain();

    // Only the one successful change (the reject) was published.
    expect(afterReject).toBe(1);
    expect(byProvider.messages.map((m) => m.event.eventType)).toEqual(["BOOKING_REJECTED"]);
    expect(byBooking.messages.map((m) => m.event.eventType)).toEqual(["BOOKING_REJECTED"]);
    expect(slotEvents.messages.map((m) => [m.slot.id, m.slot.status])).toEqual([[slots[0]!.id, "AVAILABLE"]]);
    await Promise.all([byProvider.stop(), byBooking.stop(), slotEvents.stop()]);
  });

  it("addAvailability publishes each new slot after commit", async (db) => {
    const w = makeWorld(db);
    const owner = await registerUser(w, "PROVIDER");
    const provider = await createProvider(w, owner, { name: "Live", timeZone: "Australia/Sydney" });
    const slotEvents = listen(w.pubSub, "SLOT_EVENTS", provider.id);
    const startsAt = new Date(w.clock.now().getTime() + 24 * 60 * MINUTE);
    const created = await w.services.provider.addAvailability(owner, {
      providerId: provider.id,
      startsAt,
      endsAt: new Date(startsAt.getTime() + 90 * MINUTE),
      slotMinutes: 30,
    });
    await drain();
    expect(slotEvents.messages.map((m) => m.slot)).toEqual(
      created.map((s) => ({ id: s.id, providerId: provider.id, startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString(), status: "AVAILABLE" })),
    );
    await slotEvents.stop();
  });

  it("wakes the outbox's readers after each commit that wrote outbox rows, and only then", async (db) => {
    const w = makeWorld(db);
    let wakes = 0;
    w.live.onCommit(() => wakes++);
    const customer = await registerUser(w, "CUSTOMER");
    const { owner, slots } = await providerWithSlots(w);
    await w.services.slotBlock.blockSlot(owner, slots[1]!.id);
    await w.services.slotBlock.unblockSlot(owner, slots[1]!.id);
    // Slot-only changes write no outbox row.
    expect(wakes).toBe(0);
    const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
    expect(wakes).toBe(1);
    // A refused change rolls back and wakes nobody.
    await rejection(() => w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id }));
    expect(wakes).toBe(1);
    await w.services.bookingTransition.cancelBooking(customer, booking.id);
    expect(wakes).toBe(2);
  });

  it("booking a slot whose hold lapsed publishes the expiry, the booking and the slot once, as committed", async (db) => {
    const w = makeWorld(db);
    const first = await registerUser(w, "CUSTOMER");
    const second = await registerUser(w, "CUSTOMER");
    const { providerId, slots } = await providerWithSlots(w);
    const slot = slots[0]!;
    const held = await w.services.bookingCreate.createBooking(first, { slotId: slot.id });
    w.clock.set(held.booking.holdExpiresAt!);
    const byProvider = listen(w.pubSub, "PROVIDER_BOOKING_EVENTS", providerId);
    const slotEvents = listen(w.pubSub, "SLOT_EVENTS", providerId);

    await w.services.bookingCreate.createBooking(second, { slotId: slot.id });
    await drain();

    expect(byProvider.messages.map((m) => [m.event.eventType, m.event.userId])).toEqual([
      ["BOOKING_EXPIRED", first.userId],
      ["BOOKING_CREATED", second.userId],
    ]);
    expect(slotEvents.messages.map((m) => [m.slot.id, m.slot.status])).toEqual([[slot.id, "HELD"]]);
    await Promise.all([byProvider.stop(), slotEvents.stop()]);
  });
});
