import type { Logger } from "pino";
import type { WebhookConfig } from "../config";
import type { Db } from "../db/client";
import { findProvidersByIds } from "../db/repositories/provider.repository";
import {
  claimDueDeliveries,
  failDeliveriesOfDisabledEndpoints,
  insertDeliveries,
  lockUndispatchedEvents,
  markEventsDispatched,
  recordDeliveryAttempt,
  type ClaimedDelivery,
  type DeliveryAttempt,
  type NewWebhookDelivery,
} from "../db/repositories/webhook-delivery.repository";
import { disableWebhookEndpoint, listEnabledEndpointScopes, recordEndpointFailure, recordEndpointSuccess } from "../db/repositories/webhook-endpoint.repository";
import type { Clock } from "../domain/clock";
import { isId } from "../domain/ids";
import { openWebhookSecret } from "../domain/webhook-secret";
import { endpointReceives, retryDelayMs } from "../domain/webhooks";
import { sendWebhook, type WebhookAttemptResult } from "../events/webhook-sender";
import { LoopSleeper } from "../events/loop-sleeper";

/** Events fanned out per transaction. */
const DISPATCH_BATCH = 200;
/** Deliveries claimed per round. */
const CLAIM_LIMIT = 50;
/** Requests in flight at once per worker. */
const SEND_CONCURRENCY = 10;

/** What one round did. */
export interface WebhookRoundResult {
  /** Outbox events fanned out to endpoints. */
  dispatched: number;
  /** Deliveries attempted. */
  attempted: number;
}

/**
 * Delivers outbox events as signed webhooks. Each round (1) fans committed outbox events out into
 * one PENDING delivery per matching enabled endpoint, in outbox order per booking, marking the
 * events in the same transaction (nothing lost, nothing doubled); (2) claims due deliveries with
 * leases and `SKIP LOCKED` (any number of instances; a killed one's claims expire after the lease),
 * never two of one booking to one endpoint, nor one whose earlier sibling is still PENDING; (3) sends
 * them and records the outcome: 2xx SUCCEEDED; 410 Gone disables the endpoint; anything else is
 * retried per `WEBHOOK_RETRY_SCHEDULE`, then FAILED, and an endpoint failing without a success for
 * `WEBHOOK_DISABLE_AFTER` is disabled. At least once: a receiver dedups on `webhook-id`.
 */
export class WebhookDeliveryWorker {
  private loop?: Promise<void>;
  private stopping = false;
  private readonly sleeper = new LoopSleeper();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly config: WebhookConfig,
    private readonly log: Logger,
  ) {}

  /** A claim outlives the request's timeout with room to record the outcome, in ms. */
  get leaseMs(): number {
    return this.config.timeoutMs * 2 + 5_000;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.sleeper.reset();
    this.loop = this.run();
  }

  /** Looks for work now (after every commit that wrote events). */
  wake(): void {
    this.sleeper.wake();
  }

  /** Stops after the round in flight (its requests finish or time out). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.stop();
    await this.loop;
    this.loop = undefined;
  }

  /** One fan-out + claim-send-record round. Throws only when the database fails. */
  async round(): Promise<WebhookRoundResult> {
    let dispatched = 0;
    for (let n = DISPATCH_BATCH; n === DISPATCH_BATCH; dispatched += n) n = await this.dispatchBatch();
    await failDeliveriesOfDisabledEndpoints(this.db);
    const now = this.clock.now();
    const claimed = await claimDueDeliveries(this.db, { limit: CLAIM_LIMIT, now, leaseUntil: new Date(now.getTime() + this.leaseMs) });
    let next = 0;
    const lanes = Array.from({ length: Math.min(SEND_CONCURRENCY, claimed.length) }, async () => {
      while (next < claimed.length) await this.deliver(claimed[next++]!);
    });
    await Promise.all(lanes);
    return { dispatched, attempted: claimed.length };
  }

  /** Fans one batch of outbox events out into deliveries; returns how many events it took. */
  private async dispatchBatch(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const events = await lockUndispatchedEvents(tx, DISPATCH_BATCH);
      if (events.length === 0) return 0;
      const endpoints = await listEnabledEndpointScopes(tx);
      const rows: NewWebhookDelivery[] = [];
      if (endpoints.length > 0) {
        // Event types added later might not name a provider: those reach admin-wide endpoints only.
        const providerOf = (e: (typeof events)[number]) => String((e.payload as { providerId?: unknown }).providerId ?? "");
        const providerIds = [...new Set(events.map(providerOf))].filter(isId);
        const owners = new Map((await findProvidersByIds(tx, providerIds)).map((p) => [p.id, p.ownerId]));
        for (const e of events) {
          const providerId = providerOf(e);
          const event = { eventType: e.eventType, providerId, providerOwnerId: owners.get(providerId) };
          for (const ep of endpoints) {
            if (endpointReceives(ep, event)) rows.push({ endpointId: ep.id, outboxId: e.id, eventId: e.eventId, eventType: e.eventType, bookingId: e.bookingId });
          }
        }
      }
      const at = this.clock.now();
      await insertDeliveries(tx, rows, at);
      await markEventsDispatched(tx, events.map((e) => e.id), at);
      return events.length;
    });
  }

  private async deliver(c: ClaimedDelivery): Promise<void> {
    const { delivery } = c;
    let result: WebhookAttemptResult;
    if (c.payload === undefined) {
      result = { ok: false, status: null, error: "the event is no longer kept" };
    } else {
      let secret: string | undefined;
      try {
        secret = openWebhookSecret(c.storedSecret, this.config.secretKey);
      } catch (err) {
        result = { ok: false, status: null, error: (err as Error).message };
      }
      if (secret !== undefined) {
        result = await sendWebhook(
          { url: c.url, secret, eventId: delivery.eventId, body: JSON.stringify(c.payload) },
          { timeoutMs: this.config.timeoutMs, policy: this.config, now: this.clock.now() },
        );
      }
    }
    await this.record(c, result!);
  }

  private async record(c: ClaimedDelivery, result: WebhookAttemptResult): Promise<void> {
    const { delivery } = c;
    const at = this.clock.now();
    const leaseUntil = delivery.claimedUntil!;
    await this.db.transaction(async (tx) => {
      const attempt = (outcome: DeliveryAttempt["outcome"]): DeliveryAttempt => ({ at, status: result.status, error: result.error, outcome });
      if (result.ok) {
        if (await recordDeliveryAttempt(tx, delivery.id, leaseUntil, attempt({ status: "SUCCEEDED" }))) await recordEndpointSuccess(tx, delivery.endpointId);
        return;
      }
      if (result.status === 410) {
        if (await recordDeliveryAttempt(tx, delivery.id, leaseUntil, attempt({ status: "FAILED" }))) {
          await disableWebhookEndpoint(tx, delivery.endpointId, "the receiver answered 410 Gone", at);
          this.log.warn({ endpointId: delivery.endpointId }, "webhook endpoint disabled: 410 Gone");
        }
        return;
      }
      const delay = retryDelayMs(delivery.attempts + 1, this.config.retryScheduleMs);
      const outcome: DeliveryAttempt["outcome"] = delay === null ? { status: "FAILED" } : { status: "PENDING", nextAttemptAt: new Date(at.getTime() + delay) };
      if (!(await recordDeliveryAttempt(tx, delivery.id, leaseUntil, attempt(outcome)))) return;
      const failingSince = await recordEndpointFailure(tx, delivery.endpointId, at);
      if (failingSince && at.getTime() - failingSince.getTime() >= this.config.disableAfterMs) {
        await disableWebhookEndpoint(tx, delivery.endpointId, `failing without a success since ${failingSince.toISOString()}`, at);
        this.log.warn({ endpointId: delivery.endpointId, failingSince }, "webhook endpoint disabled: failing too long");
      }
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let busy = false;
      try {
        const r = await this.round();
        busy = r.dispatched > 0 || r.attempted > 0;
        failures = 0;
      } catch (err) {
        failures++;
        this.log.error({ err }, "webhook delivery round failed");
      }
      if (this.stopping) break;
      if (failures > 0) await this.sleep(Math.min(30_000, 200 * 2 ** Math.min(failures, 8)), false);
      else if (!busy) await this.sleep(this.config.pollMs, true);
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return this.sleeper.sleep(ms, wakeable);
  }

}
