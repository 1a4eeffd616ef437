import type { Db } from "../db/client";
import { readOutboxBacklog } from "../db/repositories/outbox.repository";
import type { Clock } from "../domain/clock";
import type { RelayRuntimeStatus } from "../events/outbox-relay";
import { requireRole } from "./access";
import type { Viewer } from "../domain/viewer";

/** The relay's state as admins see it. Ages are in seconds; instants UTC. */
export interface OutboxStatus {
  /** Events not yet on every queue they route to (all instances). */
  pending: number;
  oldestPendingAt: Date | null;
  oldestPendingAgeSeconds: number | null;
  /** Last send error: this instance's relay, else the oldest failing row's. */
  lastError: string | null;
  lastErrorAt: Date | null;
  /** Whether this instance runs a relay. */
  relayRunning: boolean;
  /** Events this instance's relay has published since start. */
  sentByThisInstance: number;
}

/** What {@link OutboxStatusService} needs. */
export interface OutboxStatusDeps {
  db: Db;
  clock: Clock;
  /** This instance's relay state, when it runs one. */
  relayStatus: () => RelayRuntimeStatus | undefined;
}

export class OutboxStatusService {
  constructor(private readonly deps: OutboxStatusDeps) {}

  /** @throws UnauthenticatedError / ForbiddenError unless the caller is an ADMIN */
  async getStatus(viewer: Viewer | null): Promise<OutboxStatus> {
    requireRole(viewer, ["ADMIN"]);
    const backlog = await readOutboxBacklog(this.deps.db);
    const runtime = this.deps.relayStatus();
    const now = this.deps.clock.now().getTime();
    return {
      pending: backlog.pending,
      oldestPendingAt: backlog.oldestCreatedAt,
      oldestPendingAgeSeconds: backlog.oldestCreatedAt ? Math.max(0, (now - backlog.oldestCreatedAt.getTime()) / 1000) : null,
      lastError: runtime?.lastError ?? backlog.lastError,
      lastErrorAt: runtime?.lastErrorAt ?? null,
      relayRunning: runtime?.running ?? false,
      sentByThisInstance: runtime?.sentTotal ?? 0,
    };
  }
}
