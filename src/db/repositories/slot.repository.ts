import { and, asc, eq, gt, gte, inArray, lt, notExists, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { DbOrTx } from "../client";
import { expectOutcomes } from "../pg-error";
import { bookings, providers, schedules, slots, type SlotRow } from "../schema";

import type { SlotStatus } from "../../domain/enums";
export type { SlotStatus };

/**
 * Inserts slots in one statement, all or none.
 * @returns the slots, or `{ kind: "slot-overlap" }` when one overlaps an existing slot of the
 *   provider (inside a transaction, that outcome leaves it aborted: end it)
 */
export async function insertSlots(
  db: DbOrTx,
  values: readonly { providerId: string; startsAt: Date; endsAt: Date; updatedAt: Date }[],
): Promise<{ kind: "inserted"; slots: SlotRow[] } | { kind: "slot-overlap" }> {
  if (values.length === 0) return { kind: "inserted", slots: [] };
  const rows = await expectOutcomes(db.insert(slots).values([...values]).returning(), ["slot-overlap"]);
  return "kind" in rows ? rows : { kind: "inserted", slots: rows };
}

export async function findSlotById(db: DbOrTx, id: string): Promise<SlotRow | undefined> {
  const [row] = await db.select().from(slots).where(eq(slots.id, id)).limit(1);
  return row;
}

export async function findSlotsByIds(db: DbOrTx, ids: readonly string[]): Promise<SlotRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(slots).where(inArray(slots.id, [...ids]));
}

/** A slot with what booking it depends on: its provider's confirmation rule and its schedule's minimum notice. */
export interface SlotForBooking {
  slot: SlotRow;
  requiresConfirmation: boolean;
  /** The provider's schedule's minimum notice in minutes; null when it has no schedule. */
  minimumNoticeMinutes: number | null;
}

/**
 * The slot, its provider's `requiresConfirmation` and its schedule's minimum notice, in one
 * round trip: the booking transaction used to read them with three queries, and each round trip
 * to PostgreSQL was the largest single cost in a CPU profile of `createBooking` (docs/benchmarks.md).
 */
export async function findSlotForBooking(db: DbOrTx, id: string): Promise<SlotForBooking | undefined> {
  const [row] = await db
    .select({ slot: slots, requiresConfirmation: providers.requiresConfirmation, minimumNoticeMinutes: schedules.minimumNoticeMinutes })
    .from(slots)
    .innerJoin(providers, eq(providers.id, slots.providerId))
    .leftJoin(schedules, eq(schedules.providerId, slots.providerId))
    .where(eq(slots.id, id))
    .limit(1);
  return row;
}

/** AVAILABLE slots of a provider starting in [from, to) and after `notBefore`, by start time. */
export async function listAvailableSlots(
  db: DbOrTx,
  opts: { providerId: string; from: Date; to: Date; notBefore: Date; limit: number },
): Promise<SlotRow[]> {
  return db
    .select()
    .from(slots)
    .where(
      and(
        eq(slots.providerId, opts.providerId),
        eq(slots.status, "AVAILABLE"),
        gte(slots.startsAt, opts.from),
        lt(slots.startsAt, opts.to),
        gt(slots.startsAt, opts.notBefore),
      ),
    )
    .orderBy(asc(slots.startsAt))
    .limit(opts.limit);
}

/**
 * Claims a slot: moves it from AVAILABLE to `to` only if it is still AVAILABLE and
 * starts after `startsAfter` (default `now`; later when the provider asks for minimum
 * notice). This conditional UPDATE is what serialises racing bookings: the
 * row lock makes every loser re-check the condition after the winner commits.
 *
 * @returns the claimed slot, or undefined when someone else has it (or it is past).
 */
export async function claimSlot(db: DbOrTx, id: string, to: SlotStatus, now: Date, startsAfter: Date = now): Promise<SlotRow | undefined> {
  const [row] = await db
    .update(slots)
    .set({ status: to, updatedAt: now })
    .where(and(eq(slots.id, id), eq(slots.status, "AVAILABLE"), gt(slots.startsAt, startsAfter)))
    .returning();
  return row;
}

/**
 * Moves a slot to `to` if its status is one of `from`; returns the updated row or undefined.
 * Putting a slot back on sale goes through {@link releaseSlot} instead, and an unblock
 * (`allowWithdrawOnRelease: false`) leaves a slot the current schedule no longer offers alone.
 */
export async function updateSlotStatus(
  db: DbOrTx,
  id: string,
  from: readonly SlotStatus[],
  to: SlotStatus,
  now: Date,
  opts: { allowWithdrawOnRelease?: boolean } = {},
): Promise<SlotRow | undefined> {
  const [row] = await db
    .update(slots)
    .set({ status: to, updatedAt: now })
    .where(
      and(
        eq(slots.id, id),
        inArray(slots.status, [...from]),
        eq(slots.withdrawn, false),
        opts.allowWithdrawOnRelease === false ? eq(slots.withdrawOnRelease, false) : undefined,
      ),
    )
    .returning();
  return row;
}

/**
 * Releases a slot whose booking ended (cancel, reject, expiry, reschedule away), if its status
 * is one of `from`: back to AVAILABLE, unless it is a schedule slot the current schedule no
 * longer offers (`withdrawOnRelease`, set by setSchedule), which is withdrawn instead (BLOCKED,
 * `withdrawn`; a booking's history points at it, so it is kept). One conditional UPDATE: a
 * setSchedule that marks the slot meanwhile holds its row lock, and PostgreSQL re-reads the
 * flag from the row it commits.
 *
 * @returns the updated slot (AVAILABLE or withdrawn), or undefined when it was not in `from`
 */
export async function releaseSlot(db: DbOrTx, id: string, from: readonly SlotStatus[], now: Date): Promise<SlotRow | undefined> {
  const [row] = await db
    .update(slots)
    .set({
      status: sql`case when ${slots.withdrawOnRelease} then 'BLOCKED'::slot_status else 'AVAILABLE'::slot_status end`,
      withdrawn: sql`${slots.withdrawOnRelease}`,
      withdrawOnRelease: false,
      updatedAt: now,
    })
    .where(and(eq(slots.id, id), inArray(slots.status, [...from]), eq(slots.withdrawn, false)))
    .returning();
  return row;
}

/**
 * Marks which of a provider's future schedule slots that setSchedule must keep (HELD or
 * BOOKED by a booking, or BLOCKED by the provider) the new schedule no longer offers, and
 * unmarks those it offers again: a marked slot is withdrawn when it is released (see
 * {@link releaseSlot}) instead of going back on sale. Call it before
 * {@link withdrawScheduleSlots}: a slot released between the two is AVAILABLE by then and
 * withdrawn there; one released after waits for this transaction's row lock and sees the mark.
 *
 * @returns how many slots changed mark
 */
export async function markSlotsKeptBeyondSchedule(
  db: DbOrTx,
  opts: { providerId: string; from: Date; keep: ReadonlySet<string>; now: Date },
): Promise<number> {
  const kept = ["HELD", "BOOKED", "BLOCKED"] as const;
  const candidates = await db
    .select({ id: slots.id, startsAt: slots.startsAt, endsAt: slots.endsAt, withdrawOnRelease: slots.withdrawOnRelease })
    .from(slots)
    .where(
      and(
        eq(slots.providerId, opts.providerId),
        eq(slots.source, "SCHEDULE"),
        eq(slots.withdrawn, false),
        inArray(slots.status, [...kept]),
        gte(slots.startsAt, opts.from),
      ),
    );
  let changed = 0;
  for (const mark of [true, false]) {
    const ids = candidates.filter((s) => s.withdrawOnRelease !== mark && opts.keep.has(slotKey(s)) !== mark).map((s) => s.id);
    for (let i = 0; i < ids.length; i += 1_000) {
      const rows = await db
        .update(slots)
        .set({ withdrawOnRelease: mark })
        .where(and(inArray(slots.id, ids.slice(i, i + 1_000)), inArray(slots.status, [...kept]), eq(slots.withdrawn, false)))
        .returning({ id: slots.id });
      changed += rows.length;
    }
  }
  return changed;
}

/**
 * Inserts slots, silently skipping any that would overlap an existing slot of the provider
 * (`ON CONFLICT DO NOTHING` honours the `slots_no_overlap` exclusion constraint), so
 * regeneration never fails on, or disturbs, held, booked, blocked or one-off slots.
 */
export async function insertSlotsSkippingOverlaps(
  db: DbOrTx,
  values: readonly { providerId: string; startsAt: Date; endsAt: Date; source: SlotRow["source"]; updatedAt: Date }[],
): Promise<SlotRow[]> {
  const out: SlotRow[] = [];
  // Bounded statement size: a year of 5-minute slots is ~100k rows.
  for (let i = 0; i < values.length; i += 1_000) {
    out.push(...(await db.insert(slots).values(values.slice(i, i + 1_000)).onConflictDoNothing().returning()));
  }
  return out;
}

/** Identity of a generated slot for regeneration: `${startMs}:${endMs}`. */
export function slotKey(s: { startsAt: Date; endsAt: Date }): string {
  return `${s.startsAt.getTime()}:${s.endsAt.getTime()}`;
}

/**
 * Withdraws a provider's future generated AVAILABLE slots that are not in `keep` (see
 * {@link slotKey}). Slots some booking ever referenced cannot be deleted (history points at
 * them), so those are BLOCKED instead. The status condition is re-checked under the row
 * lock, so a slot a concurrent booking just claimed is left alone.
 *
 * @returns the withdrawn slots (deleted or blocked), for live updates
 */
export async function withdrawScheduleSlots(
  db: DbOrTx,
  opts: { providerId: string; from: Date; keep: ReadonlySet<string>; now: Date },
): Promise<SlotRow[]> {
  const candidates = await db
    .select()
    .from(slots)
    .where(and(eq(slots.providerId, opts.providerId), eq(slots.source, "SCHEDULE"), eq(slots.status, "AVAILABLE"), gte(slots.startsAt, opts.from)));
  const retire = candidates.filter((s) => !opts.keep.has(slotKey(s))).map((s) => s.id);
  if (retire.length === 0) return [];
  const withdrawn: SlotRow[] = [];
  for (let i = 0; i < retire.length; i += 1_000) {
    const ids = retire.slice(i, i + 1_000);
    const referenced = new Set(
      (await db.selectDistinct({ slotId: bookings.slotId }).from(bookings).where(inArray(bookings.slotId, ids))).map((r) => r.slotId),
    );
    const deletable = ids.filter((id) => !referenced.has(id));
    const blockable = ids.filter((id) => referenced.has(id));
    if (deletable.length > 0) {
      const deleted = await db
        .delete(slots)
        .where(and(inArray(slots.id, deletable), eq(slots.status, "AVAILABLE")))
        .returning();
      withdrawn.push(...deleted.map((s) => ({ ...s, status: "BLOCKED" as const })));
    }
    if (blockable.length > 0) {
      withdrawn.push(
        ...(await db
          .update(slots)
          .set({ status: "BLOCKED", withdrawn: true, updatedAt: opts.now })
          .where(and(inArray(slots.id, blockable), eq(slots.status, "AVAILABLE")))
          .returning()),
      );
    }
  }
  return withdrawn;
}

/**
 * Brings back withdrawn slots of a provider that the schedule offers again exactly (same
 * start and end, see {@link slotKey}), unless something else now occupies their time.
 *
 * @returns the revived slots, AVAILABLE again
 */
export async function reviveWithdrawnSlots(
  db: DbOrTx,
  opts: { providerId: string; from: Date; keys: ReadonlySet<string>; now: Date },
): Promise<SlotRow[]> {
  const candidates = await db
    .select()
    .from(slots)
    .where(and(eq(slots.providerId, opts.providerId), eq(slots.withdrawn, true), gte(slots.startsAt, opts.from)));
  const ids = candidates.filter((s) => opts.keys.has(slotKey(s))).map((s) => s.id);
  if (ids.length === 0) return [];
  const other = alias(slots, "other");
  return db
    .update(slots)
    .set({ status: "AVAILABLE", withdrawn: false, updatedAt: opts.now })
    .where(
      and(
        inArray(slots.id, ids),
        notExists(
          db
            .select({ one: sql`1` })
            .from(other)
            .where(
              and(
                eq(other.providerId, slots.providerId),
                eq(other.withdrawn, false),
                sql`tstzrange(${other.startsAt}, ${other.endsAt}, '[)') && tstzrange(${slots.startsAt}, ${slots.endsAt}, '[)')`,
              ),
            ),
        ),
      ),
    )
    .returning();
}
