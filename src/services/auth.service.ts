import { randomUUID } from "node:crypto";
import argon2 from "argon2";
import { z } from "zod";
import type { Db, Tx } from "../db/client";
import {
  findRefreshToken,
  findSessionWithUser,
  insertSession,
  markRefreshTokenUsed,
  revokeSession,
  revokeSessionsOfUser,
} from "../db/repositories/session.repository";
import {
  findUserByEmail,
  findUserById,
  insertRefreshToken,
  insertUser,
  updateUserCredentials,
  type Role,
} from "../db/repositories/user.repository";
import type { UserRow } from "../db/schema";
import type { Clock } from "../domain/clock";
import { BadInputError, ConflictError, UnauthenticatedError } from "../domain/errors";
import type { SessionRevocationMessage } from "../events/pubsub";
import { storableText } from "../domain/text";
import type { LoginThrottle } from "./login-throttle";
import { hashRefreshToken, type AccessClaims, type TokenService, type Viewer } from "./token.service";

/** Tells open live connections that sessions ended (the LivePublisher); called after commit. */
export interface RevocationPublisher {
  publishRevocation(message: SessionRevocationMessage): Promise<void>;
}

/** What {@link AuthService.ensureAdmin} did. */
export type EnsureAdminOutcome = "CREATED" | "UNCHANGED" | "PASSWORD_RESET" | "PROMOTED";

/** Tokens and user returned by register and login. */
export interface AuthResult {
  accessToken: string;
  refreshToken: string;
  user: UserRow;
}

export interface RegisterInput {
  email: string;
  password: string;
  name: string;
  role: Role;
}

// NIST SP 800-63B §5.1.1.2: at least 8 characters; the upper bound keeps hashing cheap.
const passwordSchema = z.string().min(8, "password must be at least 8 characters").max(256, "password must be at most 256 characters");
const emailSchema = z.email("email is not a valid address").max(254, "email is too long");
const nameSchema = z.string().trim().min(1, "name must not be empty").max(200, "name is too long");

/** Normalises an email for storage and lookup: trimmed, lower-cased. */
export function normaliseEmail(email: string): string {
  return storableText(email, "email").trim().toLowerCase();
}

function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BadInputError(r.error.issues[0]?.message ?? `${field} is invalid`, field);
  return r.data;
}

/** What {@link AuthService} needs. */
export interface AuthDeps {
  db: Db;
  tokens: TokenService;
  clock: Clock;
  /** Refresh token lifetime in days (config `REFRESH_TOKEN_TTL_DAYS`). */
  refreshTtlDays: number;
  /** Failed-login throttle; none means unthrottled. */
  throttle?: LoginThrottle;
  /** Tells open sockets of ended sessions; none: they learn at their next operation. */
  revocations?: RevocationPublisher;
}

/**
 * Accounts and sign-in. Passwords are hashed with argon2id (RFC 9106) by the `argon2`
 * package; refresh tokens are stored as SHA-256 hashes only.
 */
export class AuthService {
  constructor(private readonly deps: AuthDeps) {}

  /**
   * Creates a CUSTOMER or PROVIDER account and signs it in.
   * @throws BadInputError for an invalid email, password, name, or role ADMIN
   * @throws ConflictError `EMAIL_TAKEN` when the email is registered
   */
  async register(input: RegisterInput): Promise<AuthResult> {
    const email = check(emailSchema, normaliseEmail(input.email), "email");
    const password = check(passwordSchema, input.password, "password");
    const name = check(nameSchema, storableText(input.name, "name"), "name");
    if (input.role !== "CUSTOMER" && input.role !== "PROVIDER") {
      throw new BadInputError("role must be CUSTOMER or PROVIDER; ADMIN cannot be self-assigned", "role");
    }
    const passwordHash = await argon2.hash(password);
    return this.deps.db.transaction(async (tx) => {
      const inserted = await insertUser(tx, { email, name, role: input.role, passwordHash, createdAt: this.deps.clock.now() });
      if (inserted.kind === "email-taken") throw new ConflictError("EMAIL_TAKEN", "email is already registered");
      return this.issueTokens(tx, inserted.user);
    });
  }

  /**
   * Signs in with email and password, starting a new session.
   * @param clientAddress - the caller's network address, for per-client throttling
   * @throws UnauthenticatedError with one message for unknown email and wrong password alike
   * @throws RateLimitedError after too many failures for the account or the client address
   */
  async login(emailInput: string, password: string, clientAddress?: string): Promise<AuthResult> {
    const email = normaliseEmail(emailInput);
    // The attempt is counted before the password is checked, so a burst cannot outrun the count.
    const permit = await this.deps.throttle?.acquire(email, clientAddress);
    const user = await findUserByEmail(this.deps.db, email);
    // Verify against a hash even for unknown emails so timing does not reveal which emails exist.
    const hash = user?.passwordHash ?? (await this.dummyHash());
    const ok = await argon2.verify(hash, password).catch(() => false);
    if (!user || !ok) {
      await permit?.failed();
      throw new UnauthenticatedError("Invalid email or password");
    }
    await permit?.succeeded();
    return this.deps.db.transaction((tx) => this.issueTokens(tx, user));
  }

  /**
   * Trades a refresh token for a new pair (rotation): each refresh token works once. Using
   * one a second time means it leaked, so the whole session is revoked — every refresh and
   * access token of it stops working and its open sockets close (OAuth 2.0 Security BCP,
   * RFC 9700 §4.14.2).
   *
   * @throws UnauthenticatedError for an unknown, expired or revoked token; reason
   *   `REFRESH_TOKEN_REUSED` when a spent token is replayed (the session is then revoked)
   */
  async refresh(refreshToken: string): Promise<AuthResult> {
    const now = this.deps.clock.now();
    const outcome = await this.deps.db.transaction(async (tx) => {
      const found = await findRefreshToken(tx, hashRefreshToken(refreshToken), { forUpdate: true });
      if (!found || found.session.revokedAt) return { kind: "invalid" as const };
      if (found.token.usedAt) {
        await revokeSession(tx, found.session.id, "REFRESH_TOKEN_REUSED", now);
        return { kind: "reused" as const, sessionId: found.session.id };
      }
      if (found.token.expiresAt.getTime() <= now.getTime()) return { kind: "invalid" as const };
      const user = await findUserById(tx, found.token.userId);
      if (!user) return { kind: "invalid" as const };
      await markRefreshTokenUsed(tx, found.token.id, now);
      return { kind: "ok" as const, result: await this.issueTokens(tx, user, found.session.id) };
    });
    // The revocation above must commit, so the error is raised only after the transaction.
    if (outcome.kind === "reused") {
      await this.deps.revocations?.publishRevocation({ sessionIds: [outcome.sessionId], userIds: [] });
      throw new UnauthenticatedError("Refresh token already used; the session has been revoked", "REFRESH_TOKEN_REUSED");
    }
    if (outcome.kind === "invalid") throw new UnauthenticatedError("Invalid refresh token");
    return outcome.result;
  }

  /**
   * Ends the session the refresh token belongs to: its refresh tokens and access tokens stop
   * working, and its open graphql-ws sockets are closed (4403) on every instance.
   * @returns true when a session was revoked, false when the token is unknown or its session already ended
   */
  async logout(refreshToken: string): Promise<boolean> {
    const found = await findRefreshToken(this.deps.db, hashRefreshToken(refreshToken));
    if (!found) return false;
    const revoked = await revokeSession(this.deps.db, found.session.id, "LOGOUT", this.deps.clock.now());
    // Open sockets of the session close at once, on every instance.
    if (revoked) await this.deps.revocations?.publishRevocation({ sessionIds: [found.session.id], userIds: [] });
    return revoked;
  }

  /**
   * Resolves a bearer token to the caller: signature, algorithm, expiry, then revocation —
   * the session must be active and its account must still exist. The role is read from the
   * database, so a role change takes effect at once.
   *
   * @returns the caller, its session id and the token's expiry (UTC)
   * @throws UnauthenticatedError when the token is invalid, expired, or its session revoked
   */
  async authenticate(accessToken: string): Promise<AccessClaims> {
    const claims = await this.deps.tokens.verifyAccessToken(accessToken, this.deps.clock.now());
    if (!claims.sessionId) throw new UnauthenticatedError("Invalid access token");
    const found = await findSessionWithUser(this.deps.db, claims.sessionId);
    if (!found || found.user.id !== claims.userId) throw new UnauthenticatedError("Invalid access token");
    if (found.session.revokedAt) throw new UnauthenticatedError("The session has ended; sign in again", "SESSION_REVOKED");
    return { userId: found.user.id, role: found.user.role, sessionId: found.session.id, expiresAt: claims.expiresAt };
  }

  /** The signed-in user, or null for an anonymous caller. */
  async me(viewer: Viewer | null): Promise<UserRow | null> {
    if (!viewer) return null;
    return (await findUserById(this.deps.db, viewer.userId)) ?? null;
  }

  /**
   * Makes sure an ADMIN account with this email and password exists (from `ADMIN_EMAIL` at
   * start-up or the `admin:create` CLI). An account that already has the email is never
   * promoted silently: anyone may have registered that address first, and would become ADMIN
   * through the sessions they hold.
   *
   * - no account: an ADMIN is created;
   * - an ADMIN whose password matches: nothing changes (a restart does not log it out);
   * - an ADMIN with another password: the password is reset;
   * - a CUSTOMER or PROVIDER: refused, unless `promote` — then it becomes ADMIN with this password.
   * Whenever the role or the password changes, every session of the account is revoked (its
   * tokens stop working, its open sockets close), so only who knows the new password gets in.
   *
   * @throws BadInputError for an invalid email or password
   * @throws ConflictError `ACCOUNT_EXISTS` when a non-admin account has the email and `promote` is not set
   */
  async ensureAdmin(
    emailInput: string,
    password: string,
    opts: { name?: string; promote?: boolean } = {},
  ): Promise<{ user: UserRow; outcome: EnsureAdminOutcome; revokedSessions: number }> {
    const email = check(emailSchema, normaliseEmail(emailInput), "email");
    check(passwordSchema, password, "password");
    const passwordHash = await argon2.hash(password);
    const now = this.deps.clock.now();
    const result = await this.deps.db.transaction(async (tx) => {
      const existing = await findUserByEmail(tx, email, { forUpdate: true });
      // A register that commits between this read and the insert makes the insert fail on the
      // unique email: refused below like any existing account, never overwritten.
      if (!existing) {
        const inserted = await insertUser(tx, { email, name: opts.name ?? "Administrator", role: "ADMIN", passwordHash, createdAt: now });
        if (inserted.kind === "email-taken") throw new ConflictError("ACCOUNT_EXISTS", `${email} was registered meanwhile; run again to see what to do`);
        return { user: inserted.user, outcome: "CREATED" as const, revoked: [] as string[] };
      }
      if (existing.role === "ADMIN" && (await argon2.verify(existing.passwordHash, password).catch(() => false))) {
        return { user: existing, outcome: "UNCHANGED" as const, revoked: [] as string[] };
      }
      if (existing.role !== "ADMIN" && !opts.promote) {
        throw new ConflictError(
          "ACCOUNT_EXISTS",
          `${email} is already registered as a ${existing.role} account; it was not made ADMIN. ` +
            "If that account is yours, promote it explicitly (admin:create --promote, or ADMIN_PROMOTE_EXISTING=true at start-up): " +
            "its password is then replaced and all its sessions are revoked. Otherwise choose another email.",
        );
      }
      await updateUserCredentials(tx, existing.id, { role: "ADMIN", passwordHash });
      const revoked = await revokeSessionsOfUser(tx, existing.id, existing.role === "ADMIN" ? "PASSWORD_RESET" : "PROMOTED", now);
      const outcome = existing.role === "ADMIN" ? ("PASSWORD_RESET" as const) : ("PROMOTED" as const);
      return { user: { ...existing, role: "ADMIN" as const, passwordHash }, outcome, revoked };
    });
    if (result.outcome === "PASSWORD_RESET" || result.outcome === "PROMOTED") {
      await this.deps.revocations?.publishRevocation({ sessionIds: result.revoked, userIds: [result.user.id] });
    }
    return { user: result.user, outcome: result.outcome, revokedSessions: result.revoked.length };
  }

  /** Mints an access token and a refresh token in `sessionId` (a new session when absent). */
  private async issueTokens(tx: Tx, user: UserRow, sessionId?: string): Promise<AuthResult> {
    const now = this.deps.clock.now();
    const sid = sessionId ?? (await insertSession(tx, { userId: user.id, createdAt: now })).id;
    const accessToken = await this.deps.tokens.signAccessToken({ userId: user.id, role: user.role, sessionId: sid }, now);
    const refresh = this.deps.tokens.mintRefreshToken();
    await insertRefreshToken(tx, {
      userId: user.id,
      familyId: sid,
      tokenHash: refresh.hash,
      expiresAt: new Date(now.getTime() + this.deps.refreshTtlDays * 86_400_000),
      createdAt: now,
    });
    return { accessToken, refreshToken: refresh.token, user };
  }

  private dummy?: Promise<string>;
  private dummyHash(): Promise<string> {
    this.dummy ??= argon2.hash(randomUUID());
    return this.dummy;
  }
}
