import { request, sleep } from "./graphql";
import type { Account, DemoProvider, Ledger } from "./ledger";
import { CREATE_WEBHOOK_ENDPOINT, type CreateWebhookEndpointData } from "./operations";
import { verifies, WebhookReceiver, type ReceivedWebhook } from "../../test/support/webhook-receiver";

/**
 * The demo's webhook check: every provider's owner registers one endpoint (every event type,
 * every provider it owns) on a real HTTP receiver on 127.0.0.1 that the demo runs; each request's
 * Standard Webhooks signature is verified with the `standardwebhooks` package against the
 * secret createWebhookEndpoint showed once, and what arrived is compared with the demo's record.
 */

/** One owner's endpoint and the receiver behind it. */
export interface OwnerEndpoint {
  owner: Account;
  providerIds: Set<string>;
  endpointId: string;
  secret: string;
  receiver: WebhookReceiver;
}

/** The verdict for one owner's endpoint. */
export interface OwnerWebhookRow {
  owner: string;
  providers: number;
  /** Requests that arrived, redeliveries included. */
  requests: number;
  /** Distinct webhook-ids among the verified requests. */
  events: number;
  /** Events the owner's bookings' histories imply. */
  expected: number;
  bookingsMatched: number;
  bookings: number;
  ok: boolean;
}

export interface WebhookReport {
  rows: OwnerWebhookRow[];
  /** Requests whose signature did not verify (answered 401). */
  badSignatures: number;
  /** Requests that repeated a webhook-id already received (at least once allows them). */
  duplicates: number;
  problems: string[];
}

/**
 * Starts one receiver per owner (a free port each) and registers it with createWebhookEndpoint
 * as that owner. A request is answered 204 when its signature verifies, 401 otherwise.
 *
 * @throws Error naming the likely cause when the server refuses the loopback URL
 */
export async function createOwnerEndpoints(url: string, providers: readonly DemoProvider[]): Promise<OwnerEndpoint[]> {
  const byOwner = new Map<string, { owner: Account; providerIds: Set<string> }>();
  for (const p of providers) {
    const entry = byOwner.get(p.owner.id) ?? { owner: p.owner, providerIds: new Set<string>() };
    entry.providerIds.add(p.id);
    byOwner.set(p.owner.id, entry);
  }
  const endpoints: OwnerEndpoint[] = [];
  for (const { owner, providerIds } of byOwner.values()) {
    const ref = { secret: "" };
    const receiver = await new WebhookReceiver((r) => ({ status: ref.secret && verifies(r, ref.secret) ? 204 : 401 })).up();
    let data: CreateWebhookEndpointData;
    try {
      data = await request<CreateWebhookEndpointData>(url, CREATE_WEBHOOK_ENDPOINT, { input: { url: receiver.url, eventTypes: [], providerId: null } }, owner.token);
    } catch (err) {
      await receiver.down();
      await Promise.all(endpoints.map((e) => e.receiver.down()));
      // Production requires https and, without WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, refuses loopback.
      const hint = "the demo's receiver is plain http on 127.0.0.1, which only a server outside NODE_ENV=production accepts";
      throw new Error(`createWebhookEndpoint for ${owner.name} refused ${receiver.url} (${hint}): ${err instanceof Error ? err.message : String(err)}`);
    }
    ref.secret = data.createWebhookEndpoint.secret;
    endpoints.push({ owner, providerIds, endpointId: data.createWebhookEndpoint.endpoint.id, secret: ref.secret, receiver });
  }
  return endpoints;
}

/** Events the ledger says the owner's endpoint must receive. */
function expectedEvents(endpoint: OwnerEndpoint, ledger: Ledger): number {
  let n = 0;
  for (const id of endpoint.providerIds) for (const b of ledger.bookingsOf(id)) n += b.events.length;
  return n;
}

/** First arrival of each verified webhook-id, in arrival order. */
function distinctVerified(endpoint: OwnerEndpoint): ReceivedWebhook[] {
  const seen = new Set<string>();
  return endpoint.receiver.verifiedWith(endpoint.secret).filter((r) => {
    const id = r.headers["webhook-id"]!;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * Waits until every endpoint has as many distinct verified events as the ledger implies (the
 * delivery worker polls and retries), or `timeoutMs` passed; then a moment more, so a surplus
 * shows up in the comparison.
 */
export async function waitForDeliveries(endpoints: readonly OwnerEndpoint[], ledger: Ledger, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const behind = () => endpoints.some((e) => distinctVerified(e).length < expectedEvents(e, ledger));
  while (behind() && Date.now() < deadline) await sleep(250);
  await sleep(1_000);
}

/** Compares one owner's deliveries with the histories of its providers' bookings. */
function checkOwner(endpoint: OwnerEndpoint, ledger: Ledger, problems: string[]): OwnerWebhookRow {
  const label = `${endpoint.owner.name}'s endpoint`;
  const byBooking = new Map<string, string[]>();
  for (const r of distinctVerified(endpoint)) {
    const e = r.event as { bookingId: string; providerId: string; eventType: string; status?: string };
    if (!endpoint.providerIds.has(e.providerId)) problems.push(`${label} received ${e.eventType} of booking ${e.bookingId} of a provider it does not own`);
    byBooking.set(e.bookingId, [...(byBooking.get(e.bookingId) ?? []), `${e.eventType} -> ${e.status}`]);
  }
  const bookings = [...endpoint.providerIds].flatMap((id) => ledger.bookingsOf(id));
  let matched = 0;
  for (const b of bookings) {
    const want = b.events.map((t, i) => `${t} -> ${b.statuses[i]}`);
    const got = byBooking.get(b.id) ?? [];
    byBooking.delete(b.id);
    if (got.join() === want.join()) matched++;
    else problems.push(`${label}, booking ${b.id}: received [${got.join(", ")}], expected [${want.join(", ")}]`);
  }
  for (const [id, got] of byBooking) problems.push(`${label} received events of booking ${id}, which the demo did not make: [${got.join(", ")}]`);
  const events = distinctVerified(endpoint).length;
  const expected = expectedEvents(endpoint, ledger);
  return {
    owner: endpoint.owner.name,
    providers: endpoint.providerIds.size,
    requests: endpoint.receiver.received.length,
    events,
    expected,
    bookingsMatched: matched,
    bookings: bookings.length,
    ok: matched === bookings.length && events === expected,
  };
}

/**
 * Per owner: every request's signature verifies, and after deduplication on webhook-id each of
 * its providers' bookings received exactly the event types (with the status after each) of its
 * history, in commit order; nothing else arrived.
 */
export function checkWebhooks(endpoints: readonly OwnerEndpoint[], ledger: Ledger): WebhookReport {
  const problems: string[] = [];
  let badSignatures = 0;
  let duplicates = 0;
  const rows = endpoints.map((endpoint) => {
    const verified = endpoint.receiver.verifiedWith(endpoint.secret).length;
    const bad = endpoint.receiver.received.length - verified;
    if (bad > 0) problems.push(`${endpoint.owner.name}'s endpoint: ${bad} requests without a valid Standard Webhooks signature`);
    badSignatures += bad;
    duplicates += verified - distinctVerified(endpoint).length;
    const row = checkOwner(endpoint, ledger, problems);
    return { ...row, ok: row.ok && bad === 0 };
  });
  return { rows, badSignatures, duplicates, problems };
}

/** Stops every receiver. */
export async function closeOwnerEndpoints(endpoints: readonly OwnerEndpoint[]): Promise<void> {
  await Promise.all(endpoints.map((e) => e.receiver.down()));
}
