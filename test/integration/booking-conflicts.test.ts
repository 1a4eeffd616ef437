import { ConflictError } from "../../src/domain/errors";
import { BACKENDS, MINUTE, bookingRow, countRows, makeWorld, rejection, slotStatus, useBackend } from "../support/service-world";
import { providerWithSlots, registerUser } from "../support/service-factories";

describe.each(BACKENDS)("booking conflicts and idempotency through the services on $name", (backend) => {
  const { it } = useBackend(backend);

  it("a second booking of a HELD slot is SLOT_UNAVAILABLE and writes nothing", async (db) => {
    const w = makeWorld(db);
    const first = await registerUser(w, "CUSTOMER");
    const second = await registerUser(w, "CUSTOMER");
    const { slots } = await providerWithSlots(w);
    const { booking } = await w.services.bookingCreate.createBooking(first, { slotId: slots[0]!.id });

    const before = await countRows(db);
    const err = await rejection(() => w.services.bookingCreate.createBooking(second, { slotId: slots[0]!.id }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: "CONFLICT", reason: "SLOT_UNAVAILABLE" });
    expect(await countRows(db)).toEqual(before);
    expect(await slotStatus(db, slots[0]!.id)).toBe("HELD");
    expect((await bookingRow(db, booking.id))!.customerId).toBe(first.userId);
  });

  it("a BOOKED slot cannot be booked again, even by the same customer", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { slots } = await providerWithSlots(w, { requiresConfirmation: false });
    await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });

    const before = await countRows(db);
    expect(await rejection(() => w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id }))).toMatchObject({
      reason: "SLOT_UNAVAILABLE",
    });
    expect(await countRows(db)).toEqual(before);
    expect(await slotStatus(db, slots[0]!.id)).toBe("BOOKED");
  });

  it("an idempotency key replay returns the first booking with created=false and writes nothing", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { slots } = await providerWithSlots(w);
    const first = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id, idempotencyKey: "checkout-42" });
    expect(first.created).toBe(true);

    const before = await countRows(db);
    w.clock.advance(MINUTE);
    // Surrounding whitespace is not part of the key.
    const replay = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id, idempotencyKey: " checkout-42 " });
    expect(replay.created).toBe(false);
    expect(replay.booking).toEqual(first.booking);
    expect(await countRows(db)).toEqual(before);
    expect(await slotStatus(db, slots[0]!.id)).toBe("HELD");
  });

  it("the same key for a different slot is IDEMPOTENCY_KEY_REUSED and writes nothing", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { slots } = await providerWithSlots(w);
    await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id, idempotencyKey: "k-1" });

    const before = await countRows(db);
    expect(await rejection(() => w.services.bookingCreate.createBooking(customer, { slotId: slots[1]!.id, idempotencyKey: "k-1" }))).toMatchObject({
      code: "CONFLICT",
      reason: "IDEMPOTENCY_KEY_REUSED",
    });
    expect(await countRows(db)).toEqual(before);
    expect(await slotStatus(db, slots[1]!.id)).toBe("AVAILABLE");
  });

  it("the original request replayed after the booking was rescheduled returns the booking: the key names the request, not the slot it ended on", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { slots } = await providerWithSlots(w);
    const first = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id, idempotencyKey: "checkout-7" });
    w.clock.advance(MINUTE);
    const moved = await w.services.bookingReschedule.rescheduleBooking(customer, first.booking.id, slots[1]!.id);
    expect(moved.slotId).toBe(slots[1]!.id);

    const before = await countRows(db);
    w.clock.advance(MINUTE);
    const replay = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id, idempotencyKey: "checkout-7" });
    expect(replay.created).toBe(false);
    expect(replay.booking).toEqual(moved);
    expect(await countRows(db)).toEqual(before);
    expect(await slotStatus(db, slots[0]!.id)).toBe("AVAILABLE");
    // The key with the slot it was moved to is another request.
    expect(await rejection(() => w.services.bookingCreate.createBooking(customer, { slotId: slots[1]!.id, idempotencyKey: "checkout-7" }))).toMatchObject({
      reason: "IDEMPOTENCY_KEY_REUSED",
    });
    expect(await countRows(db)).toEqual(before);
  });

  it("idempotency keys belong to one customer: another customer's same key is a new request", async (db) => {
    const w = makeWorld(db);
    const a = await registerUser(w, "CUSTOMER");
    const b = await registerUser(w, "CUSTOMER");
    const { slots } = await providerWithSlots(w);
    const first = await w.services.bookingCreate.createBooking(a, { slotId: slots[0]!.id, idempotencyKey: "shared" });
    const other = await w.services.bookingCreate.createBooking(b, { slotId: slots[1]!.id, idempotencyKey: "shared" });
    expect(other.created).toBe(true);
    expect(other.booking.id).not.toBe(first.booking.id);
    // The shared key gives b no claim on a's booking or slot: a's slot is still taken.
    expect(await rejection(() => w.services.bookingCreate.createBooking(b, { slotId: slots[0]!.id, idempotencyKey: "other" }))).toMatchObject({
      reason: "SLOT_UNAVAILABLE",
    });
  });

  it("a slot whose start has passed cannot be booked, even after it was freed again", async (db) => {
    const w = makeWorld(db);
    const early = await registerUser(w, "CUSTOMER");
    const late = await registerUser(w, "CUSTOMER");
    const { owner, providerId, slots } = await providerWithSlots(w, { count: 2, start: new Date(w.clock.now().getTime() + 60 * MINUTE) });
    const [freed, untouched] = [slots[0]!, slots[1]!];
    const { booking } = await w.services.bookingCreate.createBooking(early, { slotId: freed.id });
    await w.services.bookingTransition.acceptBooking(owner, booking.id);

    w.clock.set(new Date(untouched.startsAt.getTime() + MINUTE));
    await w.services.bookingTransition.cancelBooking(early, booking.id, "running late");
    expect(await slotStatus(db, freed.id)).toBe("AVAILABLE");

    const before = await countRows(db);
    for (const slot of [freed, untouched]) {
      expect(await rejection(() => w.services.bookingCreate.createBooking(late, { slotId: slot.id }))).toMatchObject({
        code: "CONFLICT",
        reason: "SLOT_UNAVAILABLE",
      });
      expect(await slotStatus(db, slot.id)).toBe("AVAILABLE");
    }
    expect(await countRows(db)).toEqual(before);
    const window = { from: new Date(freed.startsAt.getTime() - 60 * MINUTE), to: new Date(untouched.endsAt.getTime() + MINUTE) };
    expect(await w.services.provider.availableSlots(providerId, window.from, window.to)).toEqual([]);
  });

  it("a slot starting exactly now is already past", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { slots } = await providerWithSlots(w, { count: 1 });
    w.clock.set(slots[0]!.startsAt);
    expect(await rejection(() => w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id }))).toMatchObject({
      reason: "SLOT_UNAVAILABLE",
    });
  });

  it("bad input writes nothing: malformed and unknown slot ids, empty key, wrong role", async (db) => {
    const w = makeWorld(db);
    const customer = await registerUser(w, "CUSTOMER");
    const { owner, slots } = await providerWithSlots(w);
    const before = await countRows(db);
    const create = w.services.bookingCreate;
    expect(await rejection(() => create.createBooking(customer, { slotId: "not-an-id" }))).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(await rejection(() => create.createBooking(customer, { slotId: "00000000-0000-4000-8000-000000000000" }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await rejection(() => create.createBooking(customer, { slotId: slots[0]!.id, idempotencyKey: "   " }))).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(await rejection(() => create.createBooking(customer, { slotId: slots[0]!.id, idempotencyKey: "k".repeat(201) }))).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(await rejection(() => create.createBooking(owner, { slotId: slots[0]!.id }))).toMatchObject({ code: "FORBIDDEN" });
    expect(await rejection(() => create.createBooking(null, { slotId: slots[0]!.id }))).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(await countRows(db)).toEqual(before);
    expect(await slotStatus(db, slots[0]!.id)).toBe("AVAILABLE");
  });
});
