import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "pino";
import type { Db } from "../db/client";
import {
  claimOutboxBatch,
  markOutboxPublished,
  recordOutboxFailure,
} from "../db/repositories/outbox.repository";
import type { OutboxRow } from "../db/schema";
import type { Clock } from "../domain/clock";
import type { BookingEventEnvelope } from "./envelope";
import { SQS_MAX_BATCH_ENTRIES, queuesFor, toBatchEntry, type QueueRoutes } from "./sqs-routing";
import { LoopSleeper } from "./loop-sleeper";

export interface OutboxRelayOptions {
  /** Rows claimed per round. Default 100. */
  claimLimit?: number;
  /** How long a claim is exclusive, in ms; a relay that dies loses its rows after this. Default 30 000. */
  leaseMs?: number;
  /** Fallback poll interval when nothing wakes the relay, in ms. Default 1 000. */
  pollIntervalMs?: number;
  /** First backoff step after a failure, in ms. Default 200. */
  backoffBaseMs?: number;
  /** Backoff ceiling, in ms. Default 30 000. */
  backoffMaxMs?: number;
  /** SendMessageBatch calls in flight at once. Default 8. */
  sendConcurrency?: number;
  /**
   * Called after each SendMessageBatch to one queue (with its one in-batch retry) with the number
   * of its events that queue still did not accept; they are retried in a later round. For metrics.
   */
  onSendFailure?(count: number): void;
}

/** What one claim-send-mark round did. */
export interface RelayRoundResult {
  claimed: number;
  published: number;
  /** Rows left unpublished this round (some target queue refused or was unreachable). */
  failed: number;
}

/** In-process relay state, for the admin status query and metrics. */
export interface RelayRuntimeStatus {
  running: boolean;
  sentTotal: number;
  failedTotal: number;
  consecutiveFailures: number;
  lastError: string | null;
  lastErrorAt: Date | null;
  lastSuccessAt: Date | null;
}

/**
 * "Full jitter" exponential backoff: a uniform draw in [0, min(max, base * 2^attempt)).
 * Source: AWS Architecture Blog, "Exponential Backoff And Jitter" (2015).
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30)));
}

/**
 * Ships committed outbox rows to SQS. Each round claims rows (lease + `SKIP LOCKED`, so
 * any number of instances may run a relay), sends them with SendMessageBatch (≤ 10 entries
 * per call) to every queue their event type routes to, retries the entries a batch reports
 * as failed once, and marks a row published only when every target queue accepted it.
 * Queues that accepted are remembered per row, so a retry never sends to them again.
 * While SQS is unreachable it backs off exponentially with jitter and keeps every row.
 */
export class OutboxRelay {
  private readonly opts: Required<Omit<OutboxRelayOptions, "onSendFailure">>;
  private readonly onSendFailure?: (count: number) => void;
  private loop?: Promise<void>;
  private stopping = false;
  private readonly sleeper = new LoopSleeper();
  private readonly runtime: RelayRuntimeStatus = {
    running: false,
    sentTotal: 0,
    failedTotal: 0,
    consecutiveFailures: 0,
    lastError: null,
    lastErrorAt: null,
    lastSuccessAt: null,
  };

  constructor(
    private readonly db: Db,
    private readonly sqs: SQSClient,
    private readonly routes: QueueRoutes,
    private readonly clock: Clock,
    private readonly log: Logger,
    options: OutboxRelayOptions = {},
  ) {
    this.opts = {
      claimLimit: options.claimLimit ?? 100,
      leaseMs: options.leaseMs ?? 30_000,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      backoffBaseMs: options.backoffBaseMs ?? 200,
      backoffMaxMs: options.backoffMaxMs ?? 30_000,
      sendConcurrency: options.sendConcurrency ?? 8,
    };
    this.onSendFailure = options.onSendFailure;
  }

  /** Starts the background loop (idempotent). */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.sleeper.reset();
    this.runtime.running = true;
    this.loop = this.run().finally(() => {
      this.runtime.running = false;
    });
  }

  /** Asks the loop to look for work now (called after every commit that wrote events). */
  wake(): void {
    this.sleeper.wake();
  }

  /** Stops after the round in flight finishes; resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.stop();
    await this.loop;
    this.loop = undefined;
  }

  status(): RelayRuntimeStatus {
    return { ...this.runtime };
  }

  /** Runs rounds until one claims nothing (tests and benchmarks). */
  async drain(): Promise<void> {
    while ((await this.relayRound()).claimed > 0) {
      // keep going: publishing a booking's event makes its next event claimable
    }
  }

  /** One claim-send-mark round. Throws only when the database fails. */
  async relayRound(): Promise<RelayRoundResult> {
    const now = this.clock.now();
    const rows = await claimOutboxBatch(this.db, { limit: this.opts.claimLimit, now, leaseUntil: new Date(now.getTime() + this.opts.leaseMs) });
    if (rows.length === 0) return { claimed: 0, published: 0, failed: 0 };

    const delivered = new Map<number, Set<string>>(rows.map((r) => [r.id, new Set(r.deliveredQueues)]));
    const errors = new Map<number, string>();
    const pendingByQueue = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      for (const queue of queuesFor((row.payload as BookingEventEnvelope).eventType, this.routes)) {
        if (delivered.get(row.id)!.has(queue)) continue;
        pendingByQueue.set(queue, [...(pendingByQueue.get(queue) ?? []), row]);
      }
    }
    const batches: { queue: string; rows: OutboxRow[] }[] = [];
    for (const [queue, queued] of pendingByQueue) {
      for (let i = 0; i < queued.length; i += SQS_MAX_BATCH_ENTRIES) batches.push({ queue, rows: queued.slice(i, i + SQS_MAX_BATCH_ENTRIES) });
    }
    await runLimited(batches, this.opts.sendConcurrency, async (b) => {
      const failures = await this.sendBatch(b.queue, b.rows);
      if (failures.size > 0) this.onSendFailure?.(failures.size);
      for (const row of b.rows) {
        const err = failures.get(row.id);
        if (err) errors.set(row.id, err);
        else delivered.get(row.id)!.add(b.queue);
      }
    });

    const complete = rows.filter((r) => !errors.has(r.id));
    const doneAt = this.clock.now();
    await this.db.transaction(async (tx) => {
      await markOutboxPublished(tx, complete.map((r) => r.id), doneAt);
      for (const row of rows) {
        const error = errors.get(row.id);
        if (!error) continue;
        const retryAt = new Date(doneAt.getTime() + backoffDelayMs(row.attempts, this.opts.backoffBaseMs, this.opts.backoffMaxMs));
        await recordOutboxFailure(tx, row.id, { deliveredQueues: [...delivered.get(row.id)!], error, retryAt });
      }
    });
    this.runtime.sentTotal += complete.length;
    this.runtime.failedTotal += errors.size;
    if (errors.size > 0) {
      const first = errors.values().next().value!;
      this.runtime.lastError = first;
      this.runtime.lastErrorAt = this.clock.now();
    }
    if (complete.length > 0) this.runtime.lastSuccessAt = this.clock.now();
    return { claimed: rows.length, published: complete.length, failed: errors.size };
  }

  /**
   * Sends one batch to one queue; entries the batch reports as failed are retried once.
   * @returns error messages of the rows that still failed, by row id
   */
  private async sendBatch(queue: string, rows: OutboxRow[]): Promise<Map<number, string>> {
    const failed = new Map<number, string>();
    let remaining = rows;
    for (let attempt = 0; attempt < 2 && remaining.length > 0; attempt++) {
      failed.clear();
      try {
        const res = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queue,
            Entries: remaining.map((r) => toBatchEntry(String(r.id), r.payload as BookingEventEnvelope, queue)),
          }),
        );
        for (const f of res.Failed ?? []) failed.set(Number(f.Id), `${f.Code ?? "Failed"}: ${f.Message ?? "entry refused"}`);
      } catch (err) {
        const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        for (const r of remaining) failed.set(r.id, message);
      }
      remaining = remaining.filter((r) => failed.has(r.id));
    }
    return failed;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let claimed = 0;
      let failedRound = false;
      try {
        const r = await this.relayRound();
        claimed = r.claimed;
        failedRound = r.failed > 0 && r.published === 0;
      } catch (err) {
        failedRound = true;
        this.runtime.lastError = err instanceof Error ? err.message : String(err);
        this.runtime.lastErrorAt = this.clock.now();
        this.log.error({ err }, "outbox relay round failed");
      }
      if (this.stopping) break;
      if (failedRound) {
        this.runtime.consecutiveFailures++;
        const delay = backoffDelayMs(this.runtime.consecutiveFailures, this.opts.backoffBaseMs, this.opts.backoffMaxMs);
        this.log.warn({ attempt: this.runtime.consecutiveFailures, delayMs: delay, lastError: this.runtime.lastError }, "outbox relay backing off");
        // A commit must not cut a backoff short: only stop() does.
        await this.sleep(delay, false);
        continue;
      }
      this.runtime.consecutiveFailures = 0;
      if (claimed > 0) continue;
      await this.sleep(this.opts.pollIntervalMs, true);
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return this.sleeper.sleep(ms, wakeable);
  }

}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}
