import { sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "./client";

/** A data-modifying statement built but not run (a Drizzle insert/update/delete builder). */
export interface PendingStatement {
  getSQL(): SQL;
}

/**
 * Runs several data-modifying statements (no RETURNING read back) as one SQL statement,
 * `WITH s0 AS (a), s1 AS (b) c`: one round trip instead of one each. PostgreSQL runs every
 * data-modifying WITH clause exactly once, in one snapshot, in no promised order
 * (PostgreSQL 15 manual, 7.8.4 "Data-Modifying Statements in WITH"), so only statements that
 * neither read nor depend on each other's rows may go together.
 *
 * @throws whatever the statements raise (a constraint violation fails all of them)
 */
export async function executeTogether(db: DbOrTx, statements: readonly PendingStatement[]): Promise<void> {
  if (statements.length === 0) return;
  const last = statements[statements.length - 1]!.getSQL();
  if (statements.length === 1) {
    await db.execute(last);
    return;
  }
  const clauses = statements.slice(0, -1).map((s, i) => sql`${sql.raw(`s${i}`)} as (${s.getSQL()})`);
  await db.execute(sql`with ${sql.join(clauses, sql`, `)} ${last}`);
}
