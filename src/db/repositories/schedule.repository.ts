import { asc, eq, inArray, lt, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { schedules, type ScheduleRow } from "../schema";

export type ScheduleValues = Omit<ScheduleRow, "providerId">;

/** Inserts or replaces a provider's schedule. */
export async function upsertSchedule(db: DbOrTx, providerId: string, values: ScheduleValues): Promise<ScheduleRow> {
  const [row] = await db
    .insert(schedules)
    .values({ providerId, ...values })
    .onConflictDoUpdate({ target: schedules.providerId, set: values })
    .returning();
  return row!;
}

export async function findSchedule(db: DbOrTx, providerId: string, opts: { forUpdate?: boolean } = {}): Promise<ScheduleRow | undefined> {
  const q = db.select().from(schedules).where(eq(schedules.providerId, providerId)).limit(1);
  const [row] = opts.forUpdate ? await q.for("update") : await q;
  return row;
}

export async function findSchedulesByProviderIds(db: DbOrTx, ids: readonly string[]): Promise<ScheduleRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(schedules).where(inArray(schedules.providerId, [...ids]));
}

/** Schedules generated less than a day beyond `now + horizonDays`: their horizon needs extending. */
export async function findSchedulesNeedingExtension(db: DbOrTx, now: Date, limit: number): Promise<ScheduleRow[]> {
  return db
    .select()
    .from(schedules)
    .where(lt(schedules.generatedUntil, sql`${now.toISOString()}::timestamptz + (${schedules.horizonDays} - 1) * interval '1 day'`))
    .orderBy(asc(schedules.generatedUntil))
    .limit(limit);
}

export async function setGeneratedUntil(db: DbOrTx, providerId: string, until: Date): Promise<void> {
  await db.update(schedules).set({ generatedUntil: until }).where(eq(schedules.providerId, providerId));
}
