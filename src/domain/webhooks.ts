import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import type { BookingEventType } from "./enums";

/**
 * Webhook rules (issue 14 "Signed webhooks"), pure: which events go to which endpoint, when a
 * failed delivery is tried again, and which network addresses a receiver may have.
 */

/** What decides whether an endpoint receives an event. */
export interface EndpointScope {
  /** Empty: every type. */
  eventTypes: readonly string[];
  /** Null: every provider the owner owns (an admin's: all). */
  providerId: string | null;
  ownerId: string;
  ownerIsAdmin: boolean;
}

/**
 * True when `endpoint` should receive an event of `eventType` about the provider `providerId`,
 * owned by `providerOwnerId`.
 */
export function endpointReceives(
  endpoint: EndpointScope,
  event: { eventType: string; providerId: string; providerOwnerId: string | undefined },
): boolean {
  if (endpoint.eventTypes.length > 0 && !endpoint.eventTypes.includes(event.eventType)) return false;
  if (endpoint.providerId !== null) return endpoint.providerId === event.providerId;
  return endpoint.ownerIsAdmin || endpoint.ownerId === event.providerOwnerId;
}

/**
 * The wait before the attempt after attempt number `attemptsMade` (1-based), in ms, or null when the
 * schedule is used up (the delivery is FAILED). The schedule's step is spread by ±20 % ("equal
 * jitter") so receivers that came back do not get every retry in the same second.
 *
 * @param scheduleMs - waits between attempts, in ms (`WEBHOOK_RETRY_SCHEDULE`)
 */
export function retryDelayMs(attemptsMade: number, scheduleMs: readonly number[], random: () => number = Math.random): number | null {
  const step = scheduleMs[attemptsMade - 1];
  if (step === undefined) return null;
  return Math.round(step * (0.8 + 0.4 * random()));
}

/** Largest part of a receiver's response body kept on a delivery, in characters. */
export const RESPONSE_EXCERPT_CHARS = 1_000;

/**
 * The most webhook endpoints one PROVIDER user may create (admins are not capped). It bounds
 * what `webhookEndpoints` returns to a provider's owner (an admin's list of all endpoints is not
 * bounded by it), so the list is costed by a real bound (issue 10, item 7).
 */
export const MAX_WEBHOOK_ENDPOINTS_PER_OWNER = 100;

/** Where a receiver may be, by address. */
export interface AddressPolicy {
  allowLoopback: boolean;
  /** Private (RFC 1918, ULA), link-local, cloud metadata, CGNAT, and every other non-unicast range. */
  allowPrivateNetworks: boolean;
}

/**
 * Why `address` (an IPv4 or IPv6 literal) may not receive webhooks, or null when it may.
 * Ranges are ipaddr.js's (IANA special-purpose registries, RFC 6890): anything but `unicast` is
 * refused unless private networks are allowed; `loopback` is allowed separately. An IPv4-mapped
 * IPv6 address is judged as the IPv4 address it carries. Cloud metadata services (169.254.169.254,
 * fd00:ec2::254) are link-local or ULA, so they are refused with the private ranges.
 */
export function addressRefusal(address: string, policy: AddressPolicy): string | null {
  if (isIP(address) === 0) return `${address} is not an IP address`;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  if (range === "unicast") return null;
  if (range === "loopback") return policy.allowLoopback || policy.allowPrivateNetworks ? null : `${address} is a loopback address`;
  if (policy.allowPrivateNetworks) return null;
  return `${address} is a ${range} address, not a public one`;
}
