import { randomUUID } from "node:crypto";
import argon2 from "argon2";
import { z } from "zod";
import type { Db, Tx } from "../db/client";
import { isConstraintViolation } from "../db/pg-error";
import {
  findUserByEmail,
  findUserById,
  insertRefreshToken,
  insertUser,
  updateUserCredentials,
  type Role,
} from "../db/repositories/users.repository";
import type { UserRow } from "../db/schema";
import type { Clock } from "../domain/clock";
import { BadInputError, ConflictError, UnauthenticatedError } from "../domain/errors";
import type { TokenService, Viewer } from "./token.service";

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
  return email.trim().toLowerCase();
}

function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BadInputError(r.error.issues[0]?.message ?? `${field} is invalid`, field);
  return r.data;
}

/**
 * Accounts and sign-in. Passwords are hashed with argon2id (RFC 9106) by the `argon2`
 * package; refresh tokens are stored as SHA-256 hashes only.
 */
export class AuthService {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly clock: Clock,
    private readonly refreshTtlDays: number,
  ) {}

  /**
   * Creates a CUSTOMER or PROVIDER account and signs it in.
   * @throws BadInputError for an invalid email, password, name, or role ADMIN
   * @throws ConflictError `EMAIL_TAKEN` when the email is registered
   */
  async register(input: RegisterInput): Promise<AuthResult> {
    const email = check(emailSchema, normaliseEmail(input.email), "email");
    const password = check(passwordSchema, input.password, "password");
    const name = check(nameSchema, input.name, "name");
    if (input.role !== "CUSTOMER" && input.role !== "PROVIDER") {
      throw new BadInputError("role must be CUSTOMER or PROVIDER; ADMIN cannot be self-assigned", "role");
    }
    const passwordHash = await argon2.hash(password);
    try {
      return await this.db.transaction(async (tx) => {
        const user = await insertUser(tx, { email, name, role: input.role, passwordHash, createdAt: this.clock.now() });
        return this.issueTokens(tx, user);
      });
    } catch (err) {
      if (isConstraintViolation(err, "users_email_key")) throw new ConflictError("EMAIL_TAKEN", "email is already registered");
      throw err;
    }
  }

  /**
   * Signs in with email and password.
   * @throws UnauthenticatedError with one message for unknown email and wrong password alike
   */
  async login(emailInput: string, password: string): Promise<AuthResult> {
    const user = await findUserByEmail(this.db, normaliseEmail(emailInput));
    // Verify against a hash even for unknown emails so timing does not reveal which emails exist.
    const hash = user?.passwordHash ?? (await this.dummyHash());
    const ok = await argon2.verify(hash, password).catch(() => false);
    if (!user || !ok) throw new UnauthenticatedError("Invalid email or password");
    return this.db.transaction((tx) => this.issueTokens(tx, user));
  }

  /**
   * Resolves a bearer token to the caller.
   * @throws UnauthenticatedError when the token is invalid or expired, or its user no longer exists
   */
  async authenticate(accessToken: string): Promise<Viewer> {
    const claims = await this.tokens.verifyAccessToken(accessToken, this.clock.now());
    // A valid signature is not enough: the account must still exist (a reset database keeps
    // the secret), and its role is read from the database, so a role change takes effect now.
    const user = await findUserById(this.db, claims.userId);
    if (!user) throw new UnauthenticatedError("Invalid access token");
    return { userId: user.id, role: user.role };
  }

  /** The signed-in user, or null for an anonymous caller. */
  async me(viewer: Viewer | null): Promise<UserRow | null> {
    if (!viewer) return null;
    return (await findUserById(this.db, viewer.userId)) ?? null;
  }

  /**
   * Makes sure an ADMIN account with this email and password exists (from config or the
   * `admin:create` CLI). An existing account with that email is promoted and its password reset.
   */
  async ensureAdmin(emailInput: string, password: string, name = "Administrator"): Promise<UserRow> {
    const email = check(emailSchema, normaliseEmail(emailInput), "email");
    check(passwordSchema, password, "password");
    const passwordHash = await argon2.hash(password);
    return this.db.transaction(async (tx) => {
      const existing = await findUserByEmail(tx, email);
      if (existing) {
        await updateUserCredentials(tx, existing.id, { role: "ADMIN", passwordHash });
        return { ...existing, role: "ADMIN" as const, passwordHash };
      }
      return insertUser(tx, { email, name, role: "ADMIN", passwordHash, createdAt: this.clock.now() });
    });
  }

  private async issueTokens(tx: Tx, user: UserRow): Promise<AuthResult> {
    const now = this.clock.now();
    const accessToken = await this.tokens.signAccessToken({ userId: user.id, role: user.role }, now);
    const refresh = this.tokens.mintRefreshToken();
    await insertRefreshToken(tx, {
      userId: user.id,
      familyId: randomUUID(),
      tokenHash: refresh.hash,
      expiresAt: new Date(now.getTime() + this.refreshTtlDays * 86_400_000),
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
