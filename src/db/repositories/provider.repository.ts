import { and, asc, eq, gt, inArray, or } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { toPage, type KeysetPosition, type Page } from "../cursor";
import { providers, type ProviderRow } from "../schema";

export async function insertProvider(
  db: DbOrTx,
  values: { ownerId: string; name: string; timeZone: string; requiresConfirmation: boolean; createdAt: Date },
): Promise<ProviderRow> {
  const [row] = await db.insert(providers).values(values).returning();
  return row!;
}

export async function findProviderById(db: DbOrTx, id: string): Promise<ProviderRow | undefined> {
  const [row] = await db.select().from(providers).where(eq(providers.id, id)).limit(1);
  return row;
}

export async function findProvidersByIds(db: DbOrTx, ids: readonly string[]): Promise<ProviderRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(providers).where(inArray(providers.id, [...ids]));
}

/** Providers in creation order (oldest first), keyset-paginated after `after`. */
export async function listProviders(db: DbOrTx, opts: { limit: number; after?: KeysetPosition }): Promise<Page<ProviderRow>> {
  const { after } = opts;
  const rows = await db
    .select()
    .from(providers)
    .where(
      after
        ? or(gt(providers.createdAt, after.createdAt), and(eq(providers.createdAt, after.createdAt), gt(providers.id, after.id)))
        : undefined,
    )
    .orderBy(asc(providers.createdAt), asc(providers.id))
    .limit(opts.limit + 1);
  return toPage(rows, opts.limit);
}
