import { randomUUID } from "node:crypto";
import { mapLimit, request } from "./graphql";
import type { Account, DemoProvider } from "./ledger";
import { CREATE_PROVIDER, REGISTER, type CreateProviderData, type RegisterData } from "./operations";
import { PLANS } from "./schedules";

/** Businesses spread over six IANA zones on four continents (each with the PLANS entry of its index). */
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
    return {
      id: p.id,
      name: p.name,
      timeZone: p.timeZone,
      requiresConfirmation: p.requiresConfirmation,
      owner,
      plan: PLANS[i % PLANS.length]!,
      weekSlots: [],
      slots: [],
      knownSlots: new Map(),
      gridKeys: new Set(),
      hiddenBefore: 0,
    };
  });
}

