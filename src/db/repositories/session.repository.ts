import { and, eq, isNull } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { refreshTokens, sessions, users, type RefreshTokenRow, type SessionRow, type UserRow } from "../schema";

export async function insertSession(db: DbOrTx, values: { userId: string; createdAt: Date }): Promise<SessionRow> {
  const [row] = await db.insert(sessions).values(values).returning();
  return row!;
}

/** The session and its user, in one query (every authenticated request runs it). */
export async function findSessionWithUser(db: DbOrTx, sessionId: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sessionId))
    .limit(1);
  return row;
}

/** Revokes a session if it is still active. @returns true when this call revoked it */
export async function revokeSession(db: DbOrTx, sessionId: string, reason: string, at: Date): Promise<boolean> {
  const rows = await db
    .update(sessions)
    .set({ revokedAt: at, revokedReason: reason })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length > 0;
}

/** Revokes every active session of a user. @returns the ids of the sessions this call revoked */
export async function revokeSessionsOfUser(db: DbOrTx, userId: string, reason: string, at: Date): Promise<string[]> {
  const rows = await db
    .update(sessions)
    .set({ revokedAt: at, revokedReason: reason })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.map((r) => r.id);
}

/** A refresh token by its hash, with its session; `forUpdate` serialises concurrent refreshes of one token. */
export async function findRefreshToken(
  db: DbOrTx,
  tokenHash: string,
  opts: { forUpdate?: boolean } = {},
): Promise<{ token: RefreshTokenRow; session: SessionRow } | undefined> {
  const q = db
    .select({ token: refreshTokens, session: sessions })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.familyId))
    .where(eq(refreshTokens.tokenHash, tokenHash))
    .limit(1);
  const [row] = opts.forUpdate ? await q.for("update", { of: refreshTokens }) : await q;
  return row;
}

/** Marks a refresh token as spent. */
export async function markRefreshTokenUsed(db: DbOrTx, id: string, at: Date): Promise<void> {
  await db.update(refreshTokens).set({ usedAt: at }).where(eq(refreshTokens.id, id));
}
