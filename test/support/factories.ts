import { randomUUID } from "node:crypto";
import {
  AddAvailabilityDocument,
  CreateBookingDocument,
  CreateProviderDocument,
  RegisterDocument,
  type Role,
} from "../generated/graphql";
import { executeOk } from "./graphql-client";

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

/** Start of the next whole hour at least `hoursAhead` hours from now (UTC). */
export function futureHour(hoursAhead = 24): Date {
  const d = new Date(Date.now() + hoursAhead * 3_600_000);
  d.setUTCMinutes(0, 0, 0);
  return d;
}

/**
 * Adds `count` back-to-back slots of `slotMinutes` starting at `start` (default: a whole
 * hour ~24 h ahead). Returns the slots in start order.
 */
export async function addSlots(
  url: string,
  owner: TestUser,
  providerId: string,
  opts: { count?: number; slotMinutes?: number; start?: Date } = {},
): Promise<{ id: string; startsAt: string; endsAt: string; status: string }[]> {
  const count = opts.count ?? 4;
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

/** Books `slotId` as `customer`; fails the test on error. */
export async function book(url: string, customer: TestUser, slotId: string, idempotencyKey?: string) {
  return (await executeOk(url, CreateBookingDocument, { input: { slotId, idempotencyKey } }, customer.token)).createBooking;
}
