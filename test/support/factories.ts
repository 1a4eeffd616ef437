import { randomUUID } from "node:crypto";
import {
  AddAvailabilityDocument,
  CreateBookingDocument,
  CreateProviderDocument,
  RegisterDocument,
  type Role,
} from "../generated/graphql";
import { executeOk } from "./graphql-client";

/**
 * Test data made over GraphQL, with the same names and argument shapes as the service-level
 * factories in `./service-factories.ts` (`registerUser`, `createProvider`, `addSlots`,
 * `providerWithSlots`, `bookSlot`); the first argument here is the server's URL.
 */

/** A registered account and its access token. */
export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: Role;
  token: string;
  refreshToken: string;
}

/** Registers a fresh CUSTOMER or PROVIDER over GraphQL. */
export async function registerUser(url: string, role: "CUSTOMER" | "PROVIDER" = "CUSTOMER", name = `${role.toLowerCase()} ${randomUUID().slice(0, 8)}`): Promise<TestUser> {
  const email = `${role.toLowerCase()}-${randomUUID()}@example.test`;
  const password = `pw-${randomUUID()}`;
  const data = await executeOk(url, RegisterDocument, { input: { email, password, name, role } });
  return { id: data.register.user.id, email, password, role, token: data.register.accessToken, refreshToken: data.register.refreshToken };
}

/** Creates a provider owned by `owner`. */
export async function createProvider(
  url: string,
  owner: TestUser,
  input: { name?: string; timeZone?: string; requiresConfirmation?: boolean } = {},
): Promise<{ id: string; name: string; timeZone: string; requiresConfirmation: boolean }> {
  const data = await executeOk(
    url,
    CreateProviderDocument,
    { input: { name: input.name ?? `Provider ${randomUUID().slice(0, 8)}`, timeZone: input.timeZone ?? "Europe/Berlin", requiresConfirmation: input.requiresConfirmation } },
    owner.token,
  );
  return data.createProvider;
}

/** Start of the (UTC) hour that `hoursAhead` hours after `from` (default: now) falls in. */
export function futureHour(hoursAhead = 24, from: Date = new Date()): Date {
  const d = new Date(from.getTime() + hoursAhead * 3_600_000);
  d.setUTCMinutes(0, 0, 0);
  return d;
}

/**
 * Adds `count` (default 2) back-to-back slots of `slotMinutes` (default 30) starting at `start`
 * (default: the whole hour a day from now). Returns the slots in start order.
 */
export async function addSlots(
  url: string,
  owner: TestUser,
  providerId: string,
  opts: { count?: number; slotMinutes?: number; start?: Date } = {},
): Promise<{ id: string; startsAt: string; endsAt: string; status: string }[]> {
  const count = opts.count ?? 2;
  const slotMinutes = opts.slotMinutes ?? 30;
  const start = opts.start ?? futureHour();
  const end = new Date(start.getTime() + count * slotMinutes * 60_000);
  const data = await executeOk(
    url,
    AddAvailabilityDocument,
    { input: { providerId, startsAt: start.toISOString(), endsAt: end.toISOString(), slotMinutes } },
    owner.token,
  );
  return data.addAvailability;
}

/**
 * A provider (requiring confirmation unless told otherwise) owned by a new PROVIDER user, with
 * {@link addSlots}' slots; `providerId` is `provider.id`.
 */
export async function providerWithSlots(
  url: string,
  opts: { requiresConfirmation?: boolean; timeZone?: string; count?: number; slotMinutes?: number; start?: Date } = {},
): Promise<{ owner: TestUser; provider: Awaited<ReturnType<typeof createProvider>>; providerId: string; slots: Awaited<ReturnType<typeof addSlots>> }> {
  const owner = await registerUser(url, "PROVIDER");
  const provider = await createProvider(url, owner, { timeZone: opts.timeZone, requiresConfirmation: opts.requiresConfirmation ?? true });
  const slots = await addSlots(url, owner, provider.id, opts);
  return { owner, provider, providerId: provider.id, slots };
}

/** Books `slotId` as `customer` and returns the booking; fails the test on error. */
export async function bookSlot(url: string, customer: TestUser, slotId: string, opts: { idempotencyKey?: string } = {}) {
  return (await executeOk(url, CreateBookingDocument, { input: { slotId, idempotencyKey: opts.idempotencyKey } }, customer.token)).createBooking;
}
