import { randomUUID } from "node:crypto";
import type { Clock } from "../../src/domain/clock";
import type { Services, Viewer } from "../../src/services";
import { futureHour } from "./factories";

/**
 * Test data made through the real services, with the same names and argument shapes as the
 * GraphQL factories in `./factories.ts` (`registerUser`, `createProvider`, `addSlots`,
 * `providerWithSlots`, `bookSlot`); the first argument is what the calls go through: here
 * anything holding the services (a service `World`, a `TestServer`), there a server's URL.
 */

/** What the factories call: the services, and the clock that decides "a day from now". */
export interface ServiceTarget {
  services: Services;
  clock: Clock;
}

type Provider = Awaited<ReturnType<Services["provider"]["createProvider"]>>;
type Slot = Awaited<ReturnType<Services["provider"]["addAvailability"]>>[number];
type Booking = Awaited<ReturnType<Services["bookingCreate"]["createBooking"]>>["booking"];

/** Registers a fresh CUSTOMER or PROVIDER and returns them as a service viewer. */
export async function registerUser(
  target: Pick<ServiceTarget, "services">,
  role: "CUSTOMER" | "PROVIDER" = "CUSTOMER",
  name = `${role.toLowerCase()} ${randomUUID().slice(0, 8)}`,
): Promise<Viewer> {
  const { user } = await target.services.auth.register({
    email: `${role.toLowerCase()}-${randomUUID()}@example.test`,
    password: "correct-horse-battery-staple",
    name,
    role,
  });
  return { userId: user.id, role: user.role };
}

/** Creates a provider owned by `owner` (default: a fresh name, Europe/Berlin, the service's default confirmation). */
export async function createProvider(
  target: Pick<ServiceTarget, "services">,
  owner: Viewer,
  input: { name?: string; timeZone?: string; requiresConfirmation?: boolean } = {},
): Promise<Provider> {
  return target.services.provider.createProvider(owner, {
    name: input.name ?? `Clinic ${randomUUID().slice(0, 8)}`,
    timeZone: input.timeZone ?? "Europe/Berlin",
    requiresConfirmation: input.requiresConfirmation,
  });
}

/**
 * Adds `count` (default 2) back-to-back slots of `slotMinutes` (default 30) starting at `start`
 * (default: the whole hour a day after the target's clock). Returns the slots in start order.
 */
export async function addSlots(
  target: ServiceTarget,
  owner: Viewer,
  providerId: string,
  opts: { count?: number; slotMinutes?: number; start?: Date } = {},
): Promise<Slot[]> {
  const slotMinutes = opts.slotMinutes ?? 30;
  const start = opts.start ?? futureHour(24, target.clock.now());
  return target.services.provider.addAvailability(owner, {
    providerId,
    startsAt: start,
    endsAt: new Date(start.getTime() + (opts.count ?? 2) * slotMinutes * 60_000),
    slotMinutes,
  });
}

/**
 * A provider (requiring confirmation unless told otherwise) owned by a new PROVIDER user, with
 * {@link addSlots}' slots; `providerId` is `provider.id`.
 */
export async function providerWithSlots(
  target: ServiceTarget,
  opts: { requiresConfirmation?: boolean; timeZone?: string; count?: number; slotMinutes?: number; start?: Date } = {},
): Promise<{ owner: Viewer; provider: Provider; providerId: string; slots: Slot[] }> {
  const owner = await registerUser(target, "PROVIDER");
  const provider = await createProvider(target, owner, { timeZone: opts.timeZone, requiresConfirmation: opts.requiresConfirmation ?? true });
  const slots = await addSlots(target, owner, provider.id, opts);
  return { owner, provider, providerId: provider.id, slots };
}

/** Books `slotId` as `customer` and returns the booking; a refusal throws the service's domain error. */
export async function bookSlot(
  target: Pick<ServiceTarget, "services">,
  customer: Viewer,
  slotId: string,
  opts: { idempotencyKey?: string } = {},
): Promise<Booking> {
  return (await target.services.bookingCreate.createBooking(customer, { slotId, idempotencyKey: opts.idempotencyKey })).booking;
}
