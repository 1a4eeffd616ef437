import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { UnauthenticatedError } from "../../src/domain/errors";
import { TokenService, hashRefreshToken, type Viewer } from "../../src/services/token.service";

const SECRET = "unit-test-secret-unit-test-secret-0123";
const OTHER_SECRET = "another-secret-another-secret-456789";
const TTL = 900;
const NOW = new Date("2030-05-05T12:00:00.000Z");
const key = (s: string) => new TextEncoder().encode(s);
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

async function refusal(p: Promise<unknown>): Promise<UnauthenticatedError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UnauthenticatedError) return err;
    throw err;
  }
  throw new Error("expected UnauthenticatedError, the token was accepted");
}

/** A token with every claim TokenService expects, overridable one by one. */
function craft(overrides: { iss?: string; aud?: string; role?: string; sub?: string | null; secret?: string } = {}) {
  const iat = Math.floor(NOW.getTime() / 1000);
  let jwt = new SignJWT({ role: overrides.role ?? "CUSTOMER" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(overrides.iss ?? "slotwise")
    .setAudience(overrides.aud ?? "slotwise-api")
    .setIssuedAt(iat)
    .setExpirationTime(iat + TTL);
  if (overrides.sub !== null) jwt = jwt.setSubject(overrides.sub ?? randomUUID());
  return jwt.sign(key(overrides.secret ?? SECRET));
}

describe("TokenService access tokens", () => {
  const tokens = new TokenService(SECRET, TTL);
  const viewer: Viewer = { userId: randomUUID(), role: "PROVIDER" };

  test("round trip gives back the viewer, its session and the expiry", async () => {
    const sessionId = randomUUID();
    const token = await tokens.signAccessToken({ ...viewer, sessionId }, NOW);
    expect(token.split(".")).toHaveLength(3);
    const expiresAt = new Date(Math.floor(NOW.getTime() / 1000) * 1000 + TTL * 1000);
    await expect(tokens.verifyAccessToken(token, NOW)).resolves.toEqual({ ...viewer, sessionId, expiresAt });
    await expect(tokens.verifyAccessToken(token, new Date(NOW.getTime() + (TTL - 1) * 1000))).resolves.toEqual({ ...viewer, sessionId, expiresAt });
  });

  test("the header pins HS256", async () => {
    const token = await tokens.signAccessToken(viewer, NOW);
    expect(JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString())).toMatchObject({ alg: "HS256" });
  });

  test("an expired token is UNAUTHENTICATED and says so", async () => {
    const token = await tokens.signAccessToken(viewer, NOW);
    const err = await refusal(tokens.verifyAccessToken(token, new Date(NOW.getTime() + (TTL + 1) * 1000)));
    expect(err.code).toBe("UNAUTHENTICATED");
    expect(err.message).toMatch(/expired/i);
  });

  test("a tampered payload (role raised to ADMIN) breaks the signature", async () => {
    const [h, p, s] = (await tokens.signAccessToken(viewer, NOW)).split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
    const forged = [h, b64url({ ...claims, role: "ADMIN" }), s].join(".");
    expect((await refusal(tokens.verifyAccessToken(forged, NOW))).code).toBe("UNAUTHENTICATED");
  });

  test("a tampered signature is refused", async () => {
    const [h, p, s] = (await tokens.signAccessToken(viewer, NOW)).split(".");
    const flipped = (s![0] === "A" ? "B" : "A") + s!.slice(1);
    await refusal(tokens.verifyAccessToken([h, p, flipped].join("."), NOW));
  });

  test("a token signed with another secret is refused", async () => {
    const foreign = await new TokenService(OTHER_SECRET, TTL).signAccessToken(viewer, NOW);
    await refusal(tokens.verifyAccessToken(foreign, NOW));
    await refusal(tokens.verifyAccessToken(await craft({ secret: OTHER_SECRET }), NOW));
  });

  test('an unsigned `alg: none` token crafted by hand is refused', async () => {
    const iat = Math.floor(NOW.getTime() / 1000);
    const payload = { sub: randomUUID(), role: "ADMIN", iss: "slotwise", aud: "slotwise-api", iat, exp: iat + TTL };
    for (const header of [{ alg: "none" }, { alg: "none", typ: "JWT" }, { alg: "NONE" }]) {
      await refusal(tokens.verifyAccessToken(`${b64url(header)}.${b64url(payload)}.`, NOW));
    }
  });

  test("the same claims correctly signed are accepted (so the refusals above are not about claims)", async () => {
    const sub = randomUUID();
    await expect(tokens.verifyAccessToken(await craft({ sub, role: "ADMIN" }), NOW)).resolves.toMatchObject({ userId: sub, role: "ADMIN" });
  });

  test("a wrong audience is refused", async () => {
    await refusal(tokens.verifyAccessToken(await craft({ aud: "some-other-api" }), NOW));
  });

  test("a wrong issuer is refused", async () => {
    await refusal(tokens.verifyAccessToken(await craft({ iss: "someone-else" }), NOW));
  });

  test("an unknown role or a missing subject is refused", async () => {
    await refusal(tokens.verifyAccessToken(await craft({ role: "SUPERUSER" }), NOW));
    await refusal(tokens.verifyAccessToken(await craft({ sub: null }), NOW));
  });

  test.each(["", "garbage", "a.b.c", "Bearer x.y.z"])("malformed token %p is refused", async (t) => {
    await refusal(tokens.verifyAccessToken(t, NOW));
  });
});

describe("TokenService refresh tokens", () => {
  test("are random, and only their SHA-256 hex hash is meant to be stored", () => {
    const tokens = new TokenService(SECRET, TTL);
    const a = tokens.mintRefreshToken();
    const b = tokens.mintRefreshToken();
    expect(a.token).not.toBe(b.token);
    expect(Buffer.from(a.token, "base64url")).toHaveLength(32);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash).toBe(hashRefreshToken(a.token));
    expect(a.hash).not.toContain(a.token);
  });
});
