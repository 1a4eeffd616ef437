import { and, asc, eq, gt, gte, inArray, lt } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { slots, type SlotRow } from "../schema";

export type SlotStatus = SlotRow["status"];

/**
 * Inserts slots in one statement. Throws on an overlap with an existing slot of the
 * provider (`slots_no_overlap` exclusion constraint), inserting none.
 */
export async function insertSlots(
  db: DbOrTx,
  values: readonly { providerId: string; startsAt: Date; endsAt: Date; updatedAt: Date }[],
): Promise<SlotRow[]> {
  if (values.length === 0) return [];
  return db.insert(slots).values([...values]).returning();
}

export async function findSlotById(db: DbOrTx, id: string): Promise<SlotRow | undefined> {
  const [row] = await db.select().from(slots).where(eq(slots.id, id)).limit(1);
  return row;
}

export async function findSlotsByIds(db: DbOrTx, ids: readonly string[]): Promise<SlotRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(slots).where(inArray(slots.id, [...ids]));
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
 * starts after `now`. This conditional UPDATE is what serialises racing bookings: the
 * row lock makes every loser re-check the condition after the winner commits.
 *
 * @returns the claimed slot, or undefined when someone else has it (or it is past).
 */
export async function claimSlot(db: DbOrTx, id: string, to: SlotStatus, now: Date): Promise<SlotRow | undefined> {
  const [row] = await db
    .update(slots)
    .set({ status: to, updatedAt: now })
    .where(and(eq(slots.id, id), eq(slots.status, "AVAILABLE"), gt(slots.startsAt, now)))
    .returning();
  return row;
}

/** Moves a slot to `to` if its status is one of `from`; returns the updated row or undefined. */
export async function updateSlotStatus(
  db: DbOrTx,
  id: string,
  from: readonly SlotStatus[],
  to: SlotStatus,
  now: Date,
): Promise<SlotRow | undefined> {
  const [row] = await db
    .update(slots)
    .set({ status: to, updatedAt: now })
    .where(and(eq(slots.id, id), inArray(slots.status, [...from])))
    .returning();
  return row;
}
