import type { WebhookConfig } from "../config";
import type { Db } from "../db/client";
import type { Page } from "../db/cursor";
import { parsePageSize } from "./page-input";
import { findProviderById } from "../db/repositories/provider.repository";
import { findUserById } from "../db/repositories/user.repository";
import {
  findOutboxEventByEventId,
  insertDeliveries,
  listDeliveriesOfEndpoint,
} from "../db/repositories/webhook-delivery.repository";
import {
  countWebhookEndpointsOwnedBy,
  deleteWebhookEndpointRow,
  failPendingDeliveriesOf,
  findWebhookEndpointById,
  insertWebhookEndpoint,
  listWebhookEndpointsManagedBy,
  replaceWebhookSecret,
  updateWebhookEndpointRow,
} from "../db/repositories/webhook-endpoint.repository";
import type { WebhookDeliveryRow, WebhookEndpointRow } from "../db/schema";
import type { BookingEventType } from "../domain/booking-lifecycle";
import type { Clock } from "../domain/clock";
import { BadInputError, ConflictError, NotFoundError } from "../domain/errors";
import { isId, parseId } from "../domain/ids";
import { generateWebhookSecret, sealWebhookSecret } from "../domain/webhook-secret";
import { MAX_WEBHOOK_ENDPOINTS_PER_OWNER, endpointReceives } from "../domain/webhooks";
import { receiverAddressRefusal } from "../events/webhook-sender";
import { requireProviderManager, requireRole } from "./access";
import type { Viewer } from "../domain/viewer";

/** Which receivers the service accepts, and the key that seals secrets. */
export type WebhookPolicy = Pick<WebhookConfig, "requireHttps" | "allowLoopback" | "allowPrivateNetworks" | "secretKey">;

/** Outside production, no key: loopback and http allowed, private networks not. */
export const DEVELOPMENT_WEBHOOK_POLICY: WebhookPolicy = { requireHttps: false, allowLoopback: true, allowPrivateNetworks: false };

/** An endpoint as the API shows it: never its secret. */
export type WebhookEndpointView = Omit<WebhookEndpointRow, "secret">;

export interface WebhookEndpointInput {
  url: string;
  /** Null or empty: every type. */
  eventTypes?: BookingEventType[] | null;
}

/** Longest accepted endpoint URL, in characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2_000;

function toView(row: WebhookEndpointRow): WebhookEndpointView {
  const { secret: _secret, ...view } = row;
  return view;
}

/** What {@link WebhookService} needs. */
export interface WebhookDeps {
  db: Db;
  clock: Clock;
  /** Which endpoint URLs are accepted. */
  policy: WebhookPolicy;
}

/**
 * Managing webhook endpoints (issue 14 "Signed webhooks"): a PROVIDER for the providers it owns,
 * an ADMIN for all. Endpoints another user manages are NOT_FOUND; CUSTOMERs are FORBIDDEN.
 * Delivery itself is the worker's (src/workers/webhook-delivery.worker.ts).
 */
export class WebhookService {
  constructor(private readonly deps: WebhookDeps) {}

  /** The caller's endpoints (an admin's: all), oldest first. */
  async listEndpoints(viewer: Viewer | null): Promise<WebhookEndpointView[]> {
    const v = requireRole(viewer, ["PROVIDER", "ADMIN"]);
    return (await listWebhookEndpointsManagedBy(this.deps.db, { userId: v.userId, all: v.role === "ADMIN" })).map(toView);
  }

  /** One endpoint the caller manages. @throws UnauthenticatedError, ForbiddenError (customer), NotFoundError */
  async getEndpoint(viewer: Viewer | null, id: string): Promise<WebhookEndpointView> {
    return toView(await this.managedEndpoint(viewer, id));
  }

  /**
   * Creates an endpoint with a fresh secret, returned only here.
   * @throws BadInputError for a URL that is not http(s), not https in production, or whose host is
   *   (or resolves to) a refused address; NotFoundError / ForbiddenError for the provider
   */
  async createEndpoint(viewer: Viewer | null, input: WebhookEndpointInput & { providerId?: string | null }): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
    const v = requireRole(viewer, ["PROVIDER", "ADMIN"]);
    let providerId: string | null = null;
    if (input.providerId !== undefined && input.providerId !== null) {
      providerId = parseId(input.providerId, "providerId");
      const provider = await findProviderById(this.deps.db, providerId);
      if (!provider) throw new NotFoundError("Provider", providerId);
      requireProviderManager(v, provider);
    }
    const url = await this.checkUrl(input.url);
    // Admins manage every endpoint and their list is not bounded by the cap anyway.
    if (v.role !== "ADMIN" && (await countWebhookEndpointsOwnedBy(this.deps.db, v.userId)) >= MAX_WEBHOOK_ENDPOINTS_PER_OWNER) {
      throw new ConflictError("WEBHOOK_ENDPOINT_LIMIT", `at most ${MAX_WEBHOOK_ENDPOINTS_PER_OWNER} webhook endpoints per user; delete one first`);
    }
    const secret = generateWebhookSecret();
    const row = await insertWebhookEndpoint(
      this.deps.db,
      { ownerId: v.userId, providerId, url, eventTypes: eventTypesOf(input.eventTypes), secret: sealWebhookSecret(secret, this.deps.policy.secretKey) },
      this.deps.clock.now(),
    );
    return { endpoint: toView(row), secret };
  }

  /**
   * Replaces url and types and enables or disables. Disabling gives up the endpoint's PENDING
   * deliveries; enabling clears the reason. @throws as {@link createEndpoint}, NotFoundError
   */
  async updateEndpoint(viewer: Viewer | null, id: string, input: WebhookEndpointInput & { enabled: boolean }): Promise<WebhookEndpointView> {
    const endpoint = await this.managedEndpoint(viewer, id);
    const url = await this.checkUrl(input.url);
    const row = await this.deps.db.transaction(async (tx) => {
      const updated = await updateWebhookEndpointRow(
        tx,
        endpoint.id,
        { url, eventTypes: eventTypesOf(input.eventTypes), enabled: input.enabled, disabledReason: "disabled by its owner" },
        this.deps.clock.now(),
      );
      if (updated && !input.enabled) await failPendingDeliveriesOf(tx, endpoint.id, "endpoint disabled by its owner");
      return updated;
    });
    if (!row) throw new NotFoundError("WebhookEndpoint", id);
    return toView(row);
  }

  /** Deletes an endpoint with its deliveries. @throws NotFoundError */
  async deleteEndpoint(viewer: Viewer | null, id: string): Promise<boolean> {
    const endpoint = await this.managedEndpoint(viewer, id);
    if (!(await deleteWebhookEndpointRow(this.deps.db, endpoint.id))) throw new NotFoundError("WebhookEndpoint", id);
    return true;
  }

  /** A new secret, returned only here; the worker signs with it from its next claim on. @throws NotFoundError */
  async rotateSecret(viewer: Viewer | null, id: string): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
    const endpoint = await this.managedEndpoint(viewer, id);
    const secret = generateWebhookSecret();
    const row = await replaceWebhookSecret(this.deps.db, endpoint.id, sealWebhookSecret(secret, this.deps.policy.secretKey), this.deps.clock.now());
    if (!row) throw new NotFoundError("WebhookEndpoint", id);
    return { endpoint: toView(row), secret };
  }

  /**
   * Sends one kept event to the endpoint again, as a new PENDING delivery (after any earlier
   * PENDING one of the same booking). The event must be about a provider in the endpoint's scope.
   * @throws NotFoundError (endpoint, or event not kept / out of scope), ConflictError WEBHOOK_ENDPOINT_DISABLED
   */
  async redeliver(viewer: Viewer | null, endpointId: string, eventId: string): Promise<WebhookDeliveryRow> {
    const endpoint = await this.managedEndpoint(viewer, endpointId);
    if (!isId(eventId)) throw new NotFoundError("Event", eventId);
    const event = await findOutboxEventByEventId(this.deps.db, eventId.toLowerCase());
    if (!event) throw new NotFoundError("Event", eventId);
    const providerId = String((event.payload as { providerId?: unknown }).providerId ?? "");
    const [owner, provider] = await Promise.all([
      findUserById(this.deps.db, endpoint.ownerId),
      isId(providerId) ? findProviderById(this.deps.db, providerId) : Promise.resolve(undefined),
    ]);
    const inScope = endpointReceives(
      { eventTypes: [], providerId: endpoint.providerId, ownerId: endpoint.ownerId, ownerIsAdmin: owner?.role === "ADMIN" },
      { eventType: event.eventType, providerId, providerOwnerId: provider?.ownerId },
    );
    if (!inScope) throw new NotFoundError("Event", eventId);
    if (!endpoint.enabled) throw new ConflictError("WEBHOOK_ENDPOINT_DISABLED", "The endpoint is disabled; enable it first");
    const [row] = await insertDeliveries(
      this.deps.db,
      [{ endpointId: endpoint.id, outboxId: event.id, eventId: event.eventId, eventType: event.eventType, bookingId: event.bookingId }],
      this.deps.clock.now(),
    );
    return row!;
  }

  /**
   * An endpoint's deliveries, newest first. `after` is an endCursor of a previous page.
   * @throws BadInputError for a bad page size or cursor
   */
  async listDeliveries(endpointId: string, first: number | null | undefined, after: string | null | undefined): Promise<Page<WebhookDeliveryRow>> {
    const limit = parsePageSize(first);
    return listDeliveriesOfEndpoint(this.deps.db, endpointId, { limit, beforeId: after ? decodeDeliveryCursor(after) : undefined });
  }

  /** The endpoint, if the caller manages it. @throws UnauthenticatedError, ForbiddenError (customer), NotFoundError */
  private async managedEndpoint(viewer: Viewer | null, id: string): Promise<WebhookEndpointRow> {
    const v = requireRole(viewer, ["PROVIDER", "ADMIN"]);
    const endpoint = isId(id) ? await findWebhookEndpointById(this.deps.db, id.toLowerCase()) : undefined;
    if (!endpoint) throw new NotFoundError("WebhookEndpoint", id);
    if (v.role === "ADMIN" || endpoint.ownerId === v.userId) return endpoint;
    const provider = endpoint.providerId ? await findProviderById(this.deps.db, endpoint.providerId) : undefined;
    if (provider?.ownerId === v.userId) return endpoint;
    throw new NotFoundError("WebhookEndpoint", id);
  }

  /**
   * Validates a receiver URL under the policy; returns it normalised.
   * @throws BadInputError
   */
  private async checkUrl(raw: string): Promise<string> {
    if (raw.length > MAX_WEBHOOK_URL_LENGTH) throw new BadInputError(`url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`, "url");
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw new BadInputError("url is not a valid URL", "url");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new BadInputError("url must be http or https", "url");
    if (this.deps.policy.requireHttps && url.protocol !== "https:") throw new BadInputError("url must be https", "url");
    if (url.username || url.password) throw new BadInputError("url must not carry credentials", "url");
    const refusal = await receiverAddressRefusal(url, this.deps.policy);
    if (refusal) throw new BadInputError(`url is not allowed: ${refusal}`, "url");
    return url.toString();
  }
}

function eventTypesOf(types: readonly BookingEventType[] | null | undefined): string[] {
  return [...new Set(types ?? [])];
}

/** Delivery cursors: the delivery id (its creation order), base64url. */
export function encodeDeliveryCursor(id: number): string {
  return Buffer.from(`d:${id}`).toString("base64url");
}

/** @throws BadInputError when `cursor` is not one of ours */
export function decodeDeliveryCursor(cursor: string): number {
  const m = /^d:(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw new BadInputError("after is not a valid cursor", "after");
  return Number(m[1]);
}
