import { eq, inArray } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { expectOutcomes } from "../pg-error";
import { refreshTokens, users, type UserRow } from "../schema";

import type { Role } from "../../domain/enums";
export type { Role };

/**
 * Inserts a user; `email` must already be normalised (lower-case, trimmed).
 * @returns the user, or `{ kind: "email-taken" }` when the email is registered (inside a
 *   transaction, that outcome leaves it aborted: end it)
 */
export async function insertUser(
  db: DbOrTx,
  values: { email: string; name: string; role: Role; passwordHash: string; createdAt: Date },
): Promise<{ kind: "inserted"; user: UserRow } | { kind: "email-taken" }> {
  const rows = await expectOutcomes(db.insert(users).values(values).returning(), ["email-taken"]);
  return "kind" in rows ? rows : { kind: "inserted", user: rows[0]! };
}

/** A user by normalised email; `forUpdate` locks the row until the transaction ends. */
export async function findUserByEmail(db: DbOrTx, email: string, opts: { forUpdate?: boolean } = {}): Promise<UserRow | undefined> {
  const q = db.select().from(users).where(eq(users.email, email)).limit(1);
  const [row] = opts.forUpdate ? await q.for("update") : await q;
  return row;
}

export async function findUserById(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

export async function findUsersByIds(db: DbOrTx, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(users).where(inArray(users.id, [...ids]));
}

/** Sets role and password hash of an existing user (used to promote the configured admin). */
export async function updateUserCredentials(db: DbOrTx, id: string, values: { role: Role; passwordHash: string }): Promise<void> {
  await db.update(users).set(values).where(eq(users.id, id));
}

/** Stores a refresh token by its hash. */
export async function insertRefreshToken(
  db: DbOrTx,
  values: { userId: string; familyId: string; tokenHash: string; expiresAt: Date; createdAt: Date },
): Promise<void> {
  await db.insert(refreshTokens).values(values);
}
