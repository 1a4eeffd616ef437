import { randomUUID } from "node:crypto";
import { DateTime } from "luxon";
import { mapLimit, request } from "./graphql";
import type { Account, DemoProvider, DemoSlot } from "./ledger";
import {
  ADD_AVAILABILITY,
  CREATE_PROVIDER,
  REGISTER,
  type AddAvailabilityData,
  type CreateProviderData,
  type RegisterData,
} from "./operations";

/** Businesses spread over six IANA zones on four continents. */
const CATALOG: readonly { name: string; timeZone: string }[] = [
  { name: "Praxis Sonnenallee", timeZone: "Europe/Berlin" },
  { name: "Brooklyn Barbers", timeZone: "America/New_York" },
  { name: "Shibuya Dental", timeZone: "Asia/Tokyo" },
  { name: "Bondi Physio", timeZone: "Australia/Sydney" },
  { name: "Indiranagar Yoga", timeZone: "Asia/Kolkata" },
  { name: "Vila Madalena Tattoo", timeZone: "America/Sao_Paulo" },
  { name: "Kreuzberg Tutoring", timeZone: "Europe/Berlin" },
  { name: "Harlem Tax Advice", timeZone: "America/New_York" },
  { name: "Osaka Hair Studio", timeZone: "Asia/Tokyo" },
  { name: "Surry Hills Vet", timeZone: "Australia/Sydney" },
  { name: "Bandra Legal Clinic", timeZone: "Asia/Kolkata" },
  { name: "Paulista Nutrition", timeZone: "America/Sao_Paulo" },
];

const FIRST_NAMES = ["Ada", "Bashir", "Chen", "Dana", "Emeka", "Freya", "Goran", "Hana", "Ines", "Jonas", "Kemal", "Lucia", "Mateo", "Noor", "Oskar", "Priya"];
const LAST_NAMES = ["Almeida", "Becker", "Costa", "Dubois", "Eriksen", "Fujita", "Gupta", "Hughes", "Ivanova", "Jensen", "Kowalski", "Lopez", "Mensah", "Nakamura"];

/** Working hours, local to each provider, and the slot length. */
export const WORKDAY = { startHour: 9, endHour: 17, slotMinutes: 30, days: 5 } as const;

// argon2 hashing is CPU-heavy and the machine has two cores: keep registrations bounded.
const REGISTER_CONCURRENCY = 20;

/** Registers one account (CUSTOMER or PROVIDER) under a run-unique email. */
export async function registerAccount(url: string, runId: string, role: "CUSTOMER" | "PROVIDER", tag: string, name: string): Promise<Account> {
  const email = `${role.toLowerCase()}-${tag}-${runId}@demo.slotwise.test`;
  const password = `demo-${randomUUID()}`;
  const data = await request<RegisterData>(url, REGISTER, { input: { email, password, name, role } });
  return { id: data.register.user.id, email, name, token: data.register.accessToken };
}

/** `count` customers, registered concurrently (at most 20 in flight). */
export function registerCustomers(url: string, runId: string, count: number): Promise<Account[]> {
  const tags = Array.from({ length: count }, (_, i) => i);
  return mapLimit(tags, REGISTER_CONCURRENCY, (i) => {
    const name = `${FIRST_NAMES[i % FIRST_NAMES.length]} ${LAST_NAMES[Math.floor(i / FIRST_NAMES.length) % LAST_NAMES.length]}`;
    return registerAccount(url, runId, "CUSTOMER", String(i).padStart(3, "0"), name);
  });
}

/**
 * `count` providers, each created by its own PROVIDER account. Two out of three require
 * confirmation; the rest confirm bookings at once.
 */
export async function createProviders(url: string, runId: string, count: number): Promise<DemoProvider[]> {
  const indexes = Array.from({ length: count }, (_, i) => i);
  return mapLimit(indexes, REGISTER_CONCURRENCY, async (i) => {
    const entry = CATALOG[i % CATALOG.length]!;
    const name = i < CATALOG.length ? entry.name : `${entry.name} ${Math.floor(i / CATALOG.length) + 1}`;
    const owner = await registerAccount(url, runId, "PROVIDER", `p${String(i).padStart(2, "0")}`, `Owner of ${name}`);
    const data = await request<CreateProviderData>(
      url,
      CREATE_PROVIDER,
      { input: { name, timeZone: entry.timeZone, requiresConfirmation: i % 3 !== 2 } },
      owner.token,
    );
    const p = data.createProvider;
    return { id: p.id, name: p.name, timeZone: p.timeZone, requiresConfirmation: p.requiresConfirmation, owner, slots: [] };
  });
}

/**
 * The next Monday to Friday in the provider's own zone, 09:00-17:00 local, as UTC instants.
 * Next week's Monday is always in the future, so every slot is bookable.
 */
export function workingWeek(timeZone: string, now: DateTime = DateTime.now()): { startsAt: string; endsAt: string }[] {
  const monday = now.setZone(timeZone).startOf("week").plus({ weeks: 1 });
  return Array.from({ length: WORKDAY.days }, (_, d) => {
    const day = monday.plus({ days: d });
    const at = (hour: number) => DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour }, { zone: timeZone }).toUTC().toISO()!;
    return { startsAt: at(WORKDAY.startHour), endsAt: at(WORKDAY.endHour) };
  });
}

/** Adds the working week to every provider (one addAvailability per day) and fills `slots`. */
export async function addWorkingWeeks(url: string, providers: readonly DemoProvider[]): Promise<void> {
  await mapLimit(providers, 6, async (p) => {
    for (const day of workingWeek(p.timeZone)) {
      const data = await request<AddAvailabilityData>(
        url,
        ADD_AVAILABILITY,
        { input: { providerId: p.id, startsAt: day.startsAt, endsAt: day.endsAt, slotMinutes: WORKDAY.slotMinutes } },
        p.owner.token,
      );
      const slots: DemoSlot[] = data.addAvailability.map((s) => ({ id: s.id, providerId: p.id, startsAt: s.startsAt }));
      p.slots.push(...slots);
    }
    p.slots.sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  });
}

/** The provider's slot starting at `hour`:00 local time on the first day of its working week. */
export function slotAtLocalHour(p: DemoProvider, hour: number): DemoSlot {
  const local = (s: DemoSlot) => DateTime.fromISO(s.startsAt).setZone(p.timeZone);
  const firstDay = p.slots[0] && local(p.slots[0]).toISODate();
  const slot = p.slots.find((s) => local(s).toISODate() === firstDay && local(s).hour === hour && local(s).minute === 0);
  if (!slot) throw new Error(`${p.name} has no slot at ${hour}:00 local on its first working day`);
  return slot;
}
