import { randomInt } from "node:crypto";
import { request } from "node:http";
import { print } from "graphql";
import { LoginDocument } from "../generated/graphql";
import { REDIS_URL, createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { registerUser, type TestUser } from "../support/factories";
import type { GqlError } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue #5: failed logins are throttled per account and per client address, in process or in
 * Redis. The client address is the TCP peer's, so each test logs in from its own loopback
 * addresses (127.x.y.z, bound with `localAddress`): counts of other tests — and, in Redis, of
 * other processes sharing this Redis — can never leak into these.
 */
const LIMITS = { LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: "3", LOGIN_MAX_ATTEMPTS_PER_CLIENT: "5", LOGIN_RATE_WINDOW_SECONDS: "900" };
const LOGIN = print(LoginDocument);

/** A loopback address no other test uses. */
const freshAddress = () => `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;

interface Attempt {
  status: number;
  code: string | undefined;
  retryAfterSeconds: unknown;
  userId: string | undefined;
}

/** A login sent over HTTP from the local address `from`. */
function loginFrom(server: TestServer, from: string, email: string, password: string): Promise<Attempt> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", localAddress: from, headers: { "content-type": "application/json" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          const parsed = JSON.parse(body) as { data?: { login?: { user: { id: string } } } | null; errors?: GqlError[] };
          const error = parsed.errors?.[0];
          resolve({ status: res.statusCode ?? 0, code: error?.extensions?.code, retryAfterSeconds: error?.extensions?.retryAfterSeconds, userId: parsed.data?.login?.user.id });
        });
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ query: LOGIN, variables: { email, password } }));
  });
}

const ok = (user: TestUser) => ({ code: undefined, userId: user.id });
const wrong = { code: "UNAUTHENTICATED", userId: undefined };
const limited = { code: "RATE_LIMITED", userId: undefined };

function expectRetryAfter(a: Attempt) {
  expect(a.retryAfterSeconds).toEqual(expect.any(Number));
  expect(a.retryAfterSeconds as number).toBeGreaterThan(0);
  expect(a.retryAfterSeconds as number).toBeLessThanOrEqual(900);
}

describe.each([
  ["in-process limits", null],
  ["Redis-backed limits", REDIS_URL],
] as const)("%s", (_label, redisUrl) => {
  let server: TestServer | undefined;
  beforeAll(async () => {
    if (redisUrl && !(await requireService("redis"))) return;
    server = await startTestServer({ redisUrl, env: LIMITS });
  });
  afterAll(async () => {
    await server?.close();
  });
  const attempt = (from: string, user: TestUser, password = user.password, email = user.email) => loginFrom(server!, from, email, password);

  test("after 3 failures for an account, the 4th attempt is RATE_LIMITED even with the right password, from any address", async () => {
    if (!server) return;
    const [user, bystander] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const [a, b] = [freshAddress(), freshAddress()];
    for (let i = 0; i < 3; i++) expect(await attempt(a, user, "wrong-password")).toMatchObject(wrong);
    const refused = await attempt(a, user);
    expect(refused).toMatchObject(limited);
    expectRetryAfter(refused);
    expect(await attempt(b, user)).toMatchObject(limited);
    // The account key is the normalised email, so a change of case does not escape it.
    expect(await attempt(b, user, user.password, `  ${user.email.toUpperCase()} `)).toMatchObject(limited);
    // The address itself has only 3 failures: other accounts may still sign in from it.
    expect(await attempt(a, bystander)).toMatchObject(ok(bystander));
  });

  test("failures add up per client address across accounts: at 5 that address is refused, other addresses are not", async () => {
    if (!server) return;
    const [u1, u2, u3] = await Promise.all([registerUser(server.url), registerUser(server.url), registerUser(server.url)]);
    const [a, b] = [freshAddress(), freshAddress()];
    for (const u of [u1, u1, u2, u2]) expect(await attempt(a, u!, "wrong-password")).toMatchObject(wrong);
    // 4 failures from `a`, none of the accounts at its limit: still allowed.
    expect(await attempt(a, u3!)).toMatchObject(ok(u3!));
    expect(await attempt(a, u3!, "wrong-password")).toMatchObject(wrong);
    for (const u of [u3, u1, u2]) {
      const refused = await attempt(a, u!);
      expect(refused).toMatchObject(limited);
      expectRetryAfter(refused);
    }
    for (const u of [u1, u2, u3]) expect(await attempt(b, u!)).toMatchObject(ok(u!));
  });

  test("a successful login before the limit resets the account's count", async () => {
    if (!server) return;
    const user = await registerUser(server.url);
    // A new address per round keeps every address under its own limit of 5.
    const rounds = [freshAddress(), freshAddress()];
    for (const from of rounds) {
      for (let i = 0; i < 2; i++) expect(await attempt(from, user, "wrong-password")).toMatchObject(wrong);
      expect(await attempt(from, user)).toMatchObject(ok(user));
    }
    // Counting goes on after a reset: a third failure since the last success reaches the limit.
    const last = freshAddress();
    for (let i = 0; i < 3; i++) expect(await attempt(last, user, "wrong-password")).toMatchObject(wrong);
    expect(await attempt(freshAddress(), user)).toMatchObject(limited);
  });
});

describe("two instances on one PostgreSQL database", () => {
  let database: TestDatabase | undefined;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    if (!(await requireService("postgres"))) return;
    database = await createPostgresDatabase();
  });
  afterAll(async () => {
    for (const s of servers.splice(0)) await s.close();
    await database?.drop();
  });
  const pair = async (redisUrl: string | null) => {
    const started = [await startTestServer({ databaseUrl: database!.url, redisUrl, env: LIMITS }), await startTestServer({ databaseUrl: database!.url, redisUrl, env: LIMITS })];
    servers.push(...started);
    return started as [TestServer, TestServer];
  };

  test("with Redis they share the per-account and per-client counts", async () => {
    if (!database || !(await requireService("redis"))) return;
    const [a, b] = await pair(REDIS_URL);
    const user = await registerUser(a.url);
    expect(await loginFrom(a, freshAddress(), user.email, "wrong-password")).toMatchObject(wrong);
    expect(await loginFrom(b, freshAddress(), user.email, "wrong-password")).toMatchObject(wrong);
    expect(await loginFrom(a, freshAddress(), user.email, "wrong-password")).toMatchObject(wrong);
    expect(await loginFrom(b, freshAddress(), user.email, user.password)).toMatchObject(limited);
    expect(await loginFrom(a, freshAddress(), user.email, user.password)).toMatchObject(limited);

    const from = freshAddress();
    const others = await Promise.all(Array.from({ length: 6 }, () => registerUser(a.url)));
    for (const [i, u] of others.slice(0, 5).entries()) expect(await loginFrom(i % 2 ? a : b, from, u.email, "wrong-password")).toMatchObject(wrong);
    expect(await loginFrom(a, from, others[5]!.email, others[5]!.password)).toMatchObject(limited);
    expect(await loginFrom(b, from, others[5]!.email, others[5]!.password)).toMatchObject(limited);
  });

  test("without Redis each instance counts on its own (the in-process fallback)", async () => {
    if (!database) return;
    const [a, b] = await pair(null);
    const user = await registerUser(a.url);
    for (let i = 0; i < 2; i++) expect(await loginFrom(a, freshAddress(), user.email, "wrong-password")).toMatchObject(wrong);
    for (let i = 0; i < 2; i++) expect(await loginFrom(b, freshAddress(), user.email, "wrong-password")).toMatchObject(wrong);
    // 4 failures in all, but neither instance has seen 3.
    expect(await loginFrom(a, freshAddress(), user.email, user.password)).toMatchObject(ok(user));
  });
});
