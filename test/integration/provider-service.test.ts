import { eq } from "drizzle-orm";
import { slots as slotsTable } from "../../src/db/schema";
import { BACKENDS, MINUTE, countRows, makeWorld, rejection, useBackend, type World } from "../support/service-world";
import { createProvider, registerUser } from "../support/service-factories";

async function newProvider(w: World) {
  const owner = await registerUser(w, "PROVIDER");
  const provider = await createProvider(w, owner, { name: "Dr. Example", timeZone: "America/New_York" });
  return { owner, providerId: provider.id };
}

describe.each(BACKENDS)("provider availability through the services on $name", (backend) => {
  const { it } = useBackend(backend);
  const day = (w: World, hours: number) => new Date(w.clock.now().getTime() + 24 * 60 * MINUTE + hours * 60 * MINUTE);

  it("addAvailability writes back-to-back AVAILABLE slots covering the window", async (db) => {
    const w = makeWorld(db);
    const { owner, providerId } = await newProvider(w);
    const created = await w.services.provider.addAvailability(owner, { providerId, startsAt: day(w, 1), endsAt: day(w, 3), slotMinutes: 40 });
    expect(created).toHaveLength(3);
    const stored = await db.select().from(slotsTable).where(eq(slotsTable.providerId, providerId)).orderBy(slotsTable.startsAt);
    expect(stored.map((s) => [s.startsAt.toISOString(), s.endsAt.toISOString(), s.status])).toEqual([
      [day(w, 1).toISOString(), new Date(day(w, 1).getTime() + 40 * MINUTE).toISOString(), "AVAILABLE"],
      [new Date(day(w, 1).getTime() + 40 * MINUTE).toISOString(), new Date(day(w, 1).getTime() + 80 * MINUTE).toISOString(), "AVAILABLE"],
      [new Date(day(w, 1).getTime() + 80 * MINUTE).toISOString(), day(w, 3).toISOString(), "AVAILABLE"],
    ]);
    expect(await w.services.provider.availableSlots(providerId, day(w, 0), day(w, 4))).toEqual(stored);
  });

  it("an overlapping window is SLOT_OVERLAP and writes no slot at all", async (db) => {
    const w = makeWorld(db);
    const { owner, providerId } = await newProvider(w);
    await w.services.provider.addAvailability(owner, { providerId, startsAt: day(w, 1), endsAt: day(w, 3), slotMinutes: 30 });
    const before = await countRows(db);

    // Partly overlapping at the end, fully inside, and enclosing the existing window.
    for (const [start, end] of [
      [day(w, 2.5), day(w, 5)],
      [day(w, 1.5), day(w, 2)],
      [day(w, 0), day(w, 4)],
    ] as const) {
      expect(await rejection(() => w.services.provider.addAvailability(owner, { providerId, startsAt: start, endsAt: end, slotMinutes: 30 }))).toMatchObject({
        code: "CONFLICT",
        reason: "SLOT_OVERLAP",
      });
    }
    expect(await countRows(db)).toEqual(before);
    expect(await db.$count(slotsTable, eq(slotsTable.providerId, providerId))).toBe(4);
  });

  it("windows that only touch do not overlap, and other providers are independent", async (db) => {
    const w = makeWorld(db);
    const { owner, providerId } = await newProvider(w);
    const other = await newProvider(w);
    await w.services.provider.addAvailability(owner, { providerId, startsAt: day(w, 1), endsAt: day(w, 2), slotMinutes: 60 });
    await w.services.provider.addAvailability(owner, { providerId, startsAt: day(w, 2), endsAt: day(w, 3), slotMinutes: 60 });
    await w.services.provider.addAvailability(owner, { providerId, startsAt: day(w, 0), endsAt: day(w, 1), slotMinutes: 60 });
    await w.services.provider.addAvailability(other.owner, { providerId: other.providerId, startsAt: day(w, 1), endsAt: day(w, 2), slotMinutes: 60 });
    expect(await db.$count(slotsTable, eq(slotsTable.providerId, providerId))).toBe(3);
    expect(await db.$count(slotsTable, eq(slotsTable.providerId, other.providerId))).toBe(1);
  });

  it("bad windows, past windows and other owners are refused and write nothing", async (db) => {
    const w = makeWorld(db);
    const { owner, providerId } = await newProvider(w);
    const intruder = await registerUser(w, "PROVIDER");
    const customer = await registerUser(w, "CUSTOMER");
    const add = (viewer: typeof owner | null, startsAt: Date, endsAt: Date, slotMinutes: number, pid = providerId) =>
      rejection(() => w.services.provider.addAvailability(viewer, { providerId: pid, startsAt, endsAt, slotMinutes }));
    const before = await countRows(db);

    expect(await add(owner, day(w, 2), day(w, 1), 30)).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(await add(owner, day(w, 1), day(w, 2), 25)).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(await add(owner, day(w, 1), day(w, 2), 0)).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(await add(owner, new Date(w.clock.now().getTime() - 60 * MINUTE), w.clock.now(), 30)).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(await add(owner, day(w, 1), day(w, 2), 30, "nope")).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(await add(owner, day(w, 1), day(w, 2), 30, "00000000-0000-4000-8000-000000000000")).toMatchObject({ code: "NOT_FOUND" });
    expect(await add(intruder, day(w, 1), day(w, 2), 30)).toMatchObject({ code: "FORBIDDEN" });
    expect(await add(customer, day(w, 1), day(w, 2), 30)).toMatchObject({ code: "FORBIDDEN" });
    expect(await add(null, day(w, 1), day(w, 2), 30)).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(await countRows(db)).toEqual(before);
  });

  it("createProvider refuses an unknown time zone and a customer", async (db) => {
    const w = makeWorld(db);
    const owner = await registerUser(w, "PROVIDER");
    const customer = await registerUser(w, "CUSTOMER");
    expect(await rejection(() => w.services.provider.createProvider(owner, { name: "X", timeZone: "Mars/Olympus_Mons" }))).toMatchObject({
      code: "BAD_USER_INPUT",
    });
    expect(await rejection(() => w.services.provider.createProvider(customer, { name: "X", timeZone: "UTC" }))).toMatchObject({ code: "FORBIDDEN" });
    const p = await w.services.provider.createProvider(owner, { name: "  Trimmed  ", timeZone: "Asia/Kolkata" });
    expect(p).toMatchObject({ name: "Trimmed", timeZone: "Asia/Kolkata", requiresConfirmation: true, ownerId: owner.userId });
  });
});
