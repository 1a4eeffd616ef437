/** Accounts: users, their sign-in sessions and refresh tokens, and their calendar feeds. */
import { index, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { roleEnum, tz } from "./columns";

export const users = pgTable("users", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** Stored lower-cased; uniqueness is case-insensitive by construction. */
  email: text("email").notNull().unique("users_email_key"),
  name: text("name").notNull(),
  role: roleEnum("role").notNull(),
  passwordHash: text("password_hash").notNull(),
  createdAt: tz("created_at").notNull().defaultNow(),
});

/**
 * A sign-in session: every refresh token rotated from one login belongs to it, and every
 * access token names it (`sid`). Revoking it (logout, or a refresh token used twice)
 * ends all of them at once.
 */
export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: tz("created_at").notNull().defaultNow(),
    revokedAt: tz("revoked_at"),
    /** Why it ended: `LOGOUT` or `REFRESH_TOKEN_REUSED`. */
    revokedReason: text("revoked_reason"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The session (token family): all tokens rotated from one login share it; reuse revokes it. */
    familyId: uuid("family_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    /** SHA-256 of the opaque token, hex; the token itself is never stored. */
    tokenHash: text("token_hash").notNull().unique("refresh_tokens_token_hash_key"),
    expiresAt: tz("expires_at").notNull(),
    usedAt: tz("used_at"),
    revokedAt: tz("revoked_at"),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [index("refresh_tokens_family_idx").on(t.familyId)],
);

/**
 * A user's secret calendar feed (contract part 6, `User.calendarFeedUrl`). The URL's token is
 * HMAC-SHA256(server secret, `nonce`), so it can be shown again without being stored; only its
 * SHA-256 (`tokenHash`, hex) is kept, for the lookup. Rotating replaces the nonce and the hash.
 */
export const calendarFeeds = pgTable("calendar_feeds", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  nonce: text("nonce").notNull(),
  tokenHash: text("token_hash").notNull().unique("calendar_feeds_token_hash_key"),
  createdAt: tz("created_at").notNull().defaultNow(),
});
