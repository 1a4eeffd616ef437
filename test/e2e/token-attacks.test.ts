import { randomBytes, randomUUID } from "node:crypto";
import type { Client } from "graphql-ws";
import { SignJWT, type JWTPayload } from "jose";
import { channelName } from "../../src/events/pubsub";
import { LoginDocument, LogoutDocument, MeDocument, RefreshTokenDocument, SlotAvailabilityChangedDocument } from "../generated/graphql";
import { addSlots, createProvider, registerUser, type TestUser } from "../support/factories";
import { execute, executeOk, subscribe, wsClient, type GqlResult } from "../support/graphql-client";
import { TEST_JWT_SECRET, startTestServer, type TestServer } from "../support/test-server";
import { settle } from "../support/wait";

/**
 * Issue #5, token attacks: forged, re-algorithmed, foreign-signed, expired, session-less and
 * revoked access tokens are refused on HTTP (401, UNAUTHENTICATED) and at graphql-ws connect
 * (socket closed with 4403); refresh tokens rotate, a replay revokes the whole session, and
 * an expired token closes a live subscription socket.
 */
let server: TestServer;
const clients: Client[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(async () => {
  await server.close();
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** The claims of a real access token (its payload is only base64url-encoded JSON). */
const claimsOf = (token: string): JWTPayload & { sid?: string; role?: string } => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Signs `claims` as given (registered claims included) with `alg` and `secret`. */
const sign = (claims: JWTPayload, secret = TEST_JWT_SECRET, alg = "HS256") =>
  new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(new TextEncoder().encode(secret));

const login = async (url: string, user: TestUser) => (await executeOk(url, LoginDocument, { email: user.email, password: user.password })).login;
const me = (token: string, url = server.url) => execute(url, MeDocument, {}, token);
const refresh = (refreshToken: string) => execute(server.url, RefreshTokenDocument, { refreshToken });
const logout = (refreshToken: string) => execute(server.url, LogoutDocument, { refreshToken });
const refusal = (r: GqlResult<unknown>) => ({ status: r.status, code: r.errors?.[0]?.extensions?.code, reason: r.errors?.[0]?.extensions?.reason, data: r.data ?? null });

/** Connects over graphql-ws with `token` and starts a subscription: "connected", or the close code. */
function connect(token: string, providerId: string, url = server.wsUrl) {
  const c = wsClient(url, token);
  clients.push(c);
  const outcome = new Promise<"connected" | number>((resolve) => {
    c.on("connected", () => resolve("connected"));
    c.on("closed", (event) => resolve((event as { code: number }).code));
  });
  const sub = subscribe(c, SlotAvailabilityChangedDocument, { providerId });
  const closed = new Promise<number>((resolve) => c.on("closed", (event) => resolve((event as { code: number }).code)));
  return { outcome, sub, closed };
}

async function expectRefusedEverywhere(token: string, providerId: string, reason?: string) {
  expect(refusal(await me(token))).toEqual({ status: 401, code: "UNAUTHENTICATED", reason, data: null });
  const ws = connect(token, providerId);
  expect(await ws.outcome).toBe(4403);
  expect(ws.sub.results).toEqual([]);
}

describe("forged access tokens are refused on HTTP and at graphql-ws connect", () => {
  let victim: TestUser;
  let other: TestUser;
  let providerId: string;
  beforeAll(async () => {
    [victim, other] = await Promise.all([registerUser(server.url, "CUSTOMER"), registerUser(server.url, "PROVIDER")]);
    providerId = (await createProvider(server.url, other)).id;
  });

  type Forge = (real: string) => Promise<string> | string;
  const reSigned = (change: (c: JWTPayload) => JWTPayload, secret?: string, alg?: string): Forge => (real) => sign(change(claimsOf(real)), secret, alg);
  const without = (key: string) => (c: JWTPayload) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== key));
  const ATTACKS: [label: string, forge: Forge][] = [
    ["a tampered signature", (real) => {
      const [h, p, sig] = real.split(".");
      const bytes = Buffer.from(sig!, "base64url");
      bytes[0] = bytes[0]! ^ 0xff;
      return `${h}.${p}.${bytes.toString("base64url")}`;
    }],
    ["a tampered payload (role ADMIN) under the original signature", (real) => {
      const [h, , sig] = real.split(".");
      return `${h}.${b64({ ...claimsOf(real), role: "ADMIN" })}.${sig}`;
    }],
    ["alg none, hand-crafted, no signature", (real) => `${b64({ alg: "none", typ: "JWT" })}.${b64(claimsOf(real))}.`],
    ["alg none with role ADMIN", (real) => `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claimsOf(real), role: "ADMIN" })}.`],
    ["HS512 with the right secret (algorithm is pinned)", reSigned((c) => c, TEST_JWT_SECRET, "HS512")],
    ["a wrong secret", reSigned((c) => c, "not-the-secret-not-the-secret-0123456789")],
    ["an expired token of a live session", reSigned((c) => ({ ...c, iat: nowSeconds() - 1_000, exp: nowSeconds() - 60 }))],
    ["a token without sid", reSigned(without("sid"))],
    ["a token whose sid is unknown", reSigned((c) => ({ ...c, sid: randomUUID() }))],
    ["another issuer", reSigned((c) => ({ ...c, iss: "someone-else" }))],
    ["another audience", reSigned((c) => ({ ...c, aud: "another-api" }))],
    ["garbage", () => "not.a.jwt"],
  ];

  test("control: a copy re-signed with the server's secret, algorithm and claims is accepted on both paths", async () => {
    const token = await reSigned((c) => c)(victim.token);
    expect((await executeOk(server.url, MeDocument, {}, token)).me!.id).toBe(victim.id);
    expect(await connect(token, providerId).outcome).toBe("connected");
  });

  test.each(ATTACKS)("%s", async (_label, forge) => {
    await expectRefusedEverywhere(await forge(victim.token), providerId);
  });

  test("a token carrying another account's live session id is refused", async () => {
    const otherSid = claimsOf(other.token).sid;
    expect(otherSid).toEqual(expect.any(String));
    await expectRefusedEverywhere(await reSigned((c) => ({ ...c, sid: otherSid }))(victim.token), providerId);
  });
});

describe("sessions: logout and refresh-token rotation", () => {
  let providerId: string;
  beforeAll(async () => {
    providerId = (await createProvider(server.url, await registerUser(server.url, "PROVIDER"))).id;
  });

  test("after logout the session's access token stops working too (SESSION_REVOKED), on HTTP and at connect", async () => {
    const user = await registerUser(server.url, "CUSTOMER");
    const session = await login(server.url, user);
    expect((await executeOk(server.url, MeDocument, {}, session.accessToken)).me!.id).toBe(user.id);
    expect((await executeOk(server.url, LogoutDocument, { refreshToken: session.refreshToken })).logout).toBe(true);
    await expectRefusedEverywhere(session.accessToken, providerId, "SESSION_REVOKED");
    // The account's other session (from register) is untouched.
    expect((await executeOk(server.url, MeDocument, {}, user.token)).me!.id).toBe(user.id);
  });

  test("refresh after logout is UNAUTHENTICATED, and a second logout answers false", async () => {
    const user = await registerUser(server.url, "CUSTOMER");
    const session = await login(server.url, user);
    expect((await executeOk(server.url, LogoutDocument, { refreshToken: session.refreshToken })).logout).toBe(true);
    expect(refusal(await refresh(session.refreshToken))).toMatchObject({ code: "UNAUTHENTICATED", data: null });
    expect(await logout(session.refreshToken)).toMatchObject({ data: { logout: false } });
  });

  test.each([
    ["an empty string", ""],
    ["garbage", "garbage"],
    ["a well-formed random token", randomBytes(32).toString("base64url")],
    ["an access token", "ACCESS"],
  ])("refresh with %s is UNAUTHENTICATED and logout with it answers false", async (_label, token) => {
    const user = await registerUser(server.url, "CUSTOMER");
    const value = token === "ACCESS" ? user.token : token;
    expect(refusal(await refresh(value))).toMatchObject({ code: "UNAUTHENTICATED", data: null });
    expect(await logout(value)).toMatchObject({ data: { logout: false } });
    // Nothing of the real session was touched.
    expect((await refresh(user.refreshToken)).errors).toBeUndefined();
  });

  test("reusing a spent refresh token revokes the whole session: the rotated refresh and access tokens die with it", async () => {
    const user = await registerUser(server.url, "CUSTOMER");
    const elsewhere = await login(server.url, user);
    const first = await login(server.url, user);
    const rotated = (await executeOk(server.url, RefreshTokenDocument, { refreshToken: first.refreshToken })).refreshToken;
    expect(rotated.user.id).toBe(user.id);
    expect(rotated.refreshToken).not.toBe(first.refreshToken);
    expect((await executeOk(server.url, MeDocument, {}, rotated.accessToken)).me!.id).toBe(user.id);
    // Rotation keeps the session: the new access token names the same sid.
    expect(claimsOf(rotated.accessToken).sid).toBe(claimsOf(first.accessToken).sid);

    expect(refusal(await refresh(first.refreshToken))).toEqual({ status: 200, code: "UNAUTHENTICATED", reason: "REFRESH_TOKEN_REUSED", data: null });

    expect(refusal(await refresh(rotated.refreshToken))).toMatchObject({ code: "UNAUTHENTICATED", data: null });
    await expectRefusedEverywhere(rotated.accessToken, providerId, "SESSION_REVOKED");
    await expectRefusedEverywhere(first.accessToken, providerId, "SESSION_REVOKED");
    // Other sessions of the account are not part of that family.
    expect((await executeOk(server.url, MeDocument, {}, elsewhere.accessToken)).me!.id).toBe(user.id);
    expect((await refresh(elsewhere.refreshToken)).errors).toBeUndefined();
  });

  test("five concurrent refreshes of one token: at most one succeeds, and the replay revokes the session", async () => {
    const user = await registerUser(server.url, "CUSTOMER");
    const session = await login(server.url, user);
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(session.refreshToken)));
    const ok = results.filter((r) => !r.errors);
    const refused = results.filter((r) => r.errors);
    expect(ok.length).toBeLessThanOrEqual(1);
    expect(refused.map((r) => r.errors![0]!.extensions?.code)).toEqual(refused.map(() => "UNAUTHENTICATED"));
    expect(refused.some((r) => r.errors![0]!.extensions?.reason === "REFRESH_TOKEN_REUSED")).toBe(true);
    // Whoever won holds a dead pair: the session is revoked.
    for (const winner of ok.map((r) => r.data!.refreshToken)) {
      expect(refusal(await refresh(winner.refreshToken))).toMatchObject({ code: "UNAUTHENTICATED" });
      expect(refusal(await me(winner.accessToken))).toMatchObject({ status: 401, code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });
    }
    expect(refusal(await me(session.accessToken))).toMatchObject({ status: 401, code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" });
  });
});

describe("an access token that expires while its subscription socket is open", () => {
  // Short enough to wait for, long enough for login -> connect -> one event on a busy machine.
  const TTL_SECONDS = 4;
  let short: TestServer;
  beforeAll(async () => {
    short = await startTestServer({ env: { ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) } });
  });
  afterAll(async () => {
    await short.close();
  });

  test("closes the socket with 4403 after the socket was live", async () => {
    const [owner, customer] = await Promise.all([registerUser(short.url, "PROVIDER"), registerUser(short.url, "CUSTOMER")]);
    const provider = await createProvider(short.url, { ...owner, token: (await login(short.url, owner)).accessToken });
    const token = (await login(short.url, customer)).accessToken;
    expect(claimsOf(token).exp! - claimsOf(token).iat!).toBe(TTL_SECONDS);

    const ws = connect(token, provider.id, short.wsUrl);
    expect(await ws.outcome).toBe("connected");
    // Live: the subscription hears a change before the token runs out.
    const channel = channelName("SLOT_EVENTS", provider.id);
    type Engine = { ee?: { listenerCount(c: string): number }; subsRefsMap?: Map<string, Set<number>> };
    const engine = (short.pubSub as unknown as { engine?: Engine }).engine;
    const listeners = () => (engine?.subsRefsMap ? (engine.subsRefsMap.get(channel)?.size ?? 0) : (engine?.ee?.listenerCount(channel) ?? 0));
    for (const deadline = Date.now() + 5_000; listeners() === 0 && Date.now() < deadline; ) await settle(20);
    const [slot] = await addSlots(short.url, { ...owner, token: (await login(short.url, owner)).accessToken }, provider.id, { count: 1 });
    await ws.sub.waitFor(1, 5_000);
    expect(ws.sub.results[0]!.data).toEqual({ slotAvailabilityChanged: { slot: expect.objectContaining({ id: slot!.id, status: "AVAILABLE" }) } });

    let timer: NodeJS.Timeout | undefined;
    const closedWith = await Promise.race([ws.closed, new Promise((resolve) => (timer = setTimeout(() => resolve("still open"), (TTL_SECONDS + 6) * 1000)))]);
    clearTimeout(timer);
    expect(closedWith).toBe(4403);
    // The same token is refused on HTTP now too.
    expect(refusal(await me(token, short.url))).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
  });
});
