import { createHash, randomBytes, randomUUID } from "node:crypto";
import { SignJWT, errors as joseErrors, jwtVerify } from "jose";
import { UnauthenticatedError } from "../domain/errors";
import type { Viewer } from "../domain/viewer";

export type { Viewer } from "../domain/viewer";

/** What a verified access token says: the caller, its session and when the token expires. */
export interface AccessClaims extends Viewer {
  /** The session (`sid` claim); absent only in tokens not issued by a login or refresh. */
  sessionId?: string;
  /** Expiry instant (UTC), from `exp`. */
  expiresAt: Date;
}

const ISSUER = "slotwise";
const AUDIENCE = "slotwise-api";
const ALGORITHM = "HS256";

/**
 * Signs and verifies access tokens (JWT, HS256 per RFC 7518 §3.2, via jose) and mints
 * opaque refresh tokens. Verification pins the algorithm, issuer and audience, so
 * `alg: none` and tokens signed for anything else are refused.
 */
export class TokenService {
  private readonly key: Uint8Array;

  /**
   * @param secret - HS256 key material, at least 32 bytes
   * @param accessTtlSeconds - access token lifetime in seconds
   */
  constructor(
    secret: string,
    private readonly accessTtlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** Signs an access token for `viewer` in session `sessionId`; `now` is the issue instant. */
  async signAccessToken(viewer: Viewer & { sessionId?: string }, now: Date): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ role: viewer.role, ...(viewer.sessionId ? { sid: viewer.sessionId } : {}) })
      .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
      .setSubject(viewer.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.accessTtlSeconds)
      .sign(this.key);
  }

  /**
   * Verifies signature, algorithm, issuer, audience and expiry (against `now`).
   * @throws UnauthenticatedError for any invalid, forged or expired token.
   */
  async verifyAccessToken(token: string, now: Date): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: now,
      });
      const role = payload.role;
      if (typeof payload.sub !== "string" || (role !== "CUSTOMER" && role !== "PROVIDER" && role !== "ADMIN")) {
        throw new UnauthenticatedError("Invalid access token");
      }
      return {
        userId: payload.sub,
        role,
        ...(typeof payload.sid === "string" ? { sessionId: payload.sid } : {}),
        expiresAt: new Date((payload.exp ?? 0) * 1000),
      };
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new UnauthenticatedError("Access token expired");
      throw new UnauthenticatedError("Invalid access token");
    }
  }

  /** A new opaque refresh token (256 random bits, base64url) and the SHA-256 hex hash that is stored. */
  mintRefreshToken(): { token: string; hash: string } {
    const token = randomBytes(32).toString("base64url");
    return { token, hash: hashRefreshToken(token) };
  }
}

/** SHA-256 hex of a refresh token; a fast hash suffices for 256-bit random tokens. */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
