import { randomInt } from "node:crypto";
import { request } from "node:http";
import { print, type ExecutionResult } from "graphql";
import type { Client } from "graphql-ws";
import { LoginDocument, type LoginMutation } from "../generated/graphql";
import { REDIS_URL, requireService } from "../support/backends";
import { registerUser, type TestUser } from "../support/factories";
import { wsClient, type GqlError } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue 10 item 3: a burst of simultaneous guesses must not outrun the failed-login count. Each
 * attempt takes its point before the password is checked, so with 5 attempts per account at most 5
 * of 40 simultaneous guesses are checked (and the right password among them, if not checked, does
 * not sign in); the same per client address. Over HTTP and over one graphql-ws socket, with the
 * in-process and the Redis-backed limiter.
 */
const BURST = 40;
const LIMIT = 5;
const LOGIN = print(LoginDocument);
/** A loopback address no other test (or process sharing this Redis) uses. */
const freshAddress = () => `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;

type Outcome = "SIGNED_IN" | string;

function outcomeOf(r: { data?: { login?: unknown } | null; errors?: readonly { extensions?: { code?: unknown } }[] }): Outcome {
  if (r.data?.login) return "SIGNED_IN";
  return String(r.errors?.[0]?.extensions?.code ?? "NO_ANSWER");
}

function loginOverHttp(server: TestServer, from: string, email: string, password: string): Promise<Outcome> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", localAddress: from, agent: false, headers: { "content-type": "application/json" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve(outcomeOf(JSON.parse(body) as { data?: { login?: unknown } | null; errors?: GqlError[] })));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ query: LOGIN, variables: { email, password } }));
  });
}

function loginOverWs(client: Client, email: string, password: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let result: ExecutionResult<LoginMutation> | undefined;
    client.subscribe<LoginMutation>(
      { query: LOGIN, variables: { email, password } },
      {
        next: (value) => (result = value as ExecutionResult<LoginMutation>),
        error: (err) => (Array.isArray(err) ? resolve(outcomeOf({ errors: err as GqlError[] })) : reject(err)),
        complete: () => resolve(outcomeOf(result ?? {})),
      },
    );
  });
}

/** 40 wrong guesses, or 39 and the right password in a random place, all at once. */
function guesses(user: TestUser, withRightPassword: boolean): string[] {
  const all = Array.from({ length: withRightPassword ? BURST - 1 : BURST }, (_, i) => `wrong-password-${i}`);
  if (withRightPassword) all.splice(randomInt(0, BURST), 0, user.password);
  return all;
}

/**
 * What a burst may get through. Every attempt takes its point before the password is checked, so
 * without a sign-in at most LIMIT are checked. A sign-in clears the account's failures (so its
 * owner is not locked out after logging in), and guesses still in flight are then counted afresh:
 * with one, at most 2 x LIMIT are checked, and the right password only signs in when it was among
 * the first LIMIT checked (otherwise the count was already spent).
 */
function expectThrottled(outcomes: Outcome[], withRightPassword: boolean): void {
  const t = tally(outcomes);
  expect(t.other).toBe(0);
  const signedIn = outcomes.filter((o) => o === "SIGNED_IN").length;
  expect(signedIn).toBeLessThanOrEqual(withRightPassword ? 1 : 0);
  expect(t.checked).toBeLessThanOrEqual(signedIn ? 2 * LIMIT : LIMIT);
  expect(t.limited).toBeGreaterThanOrEqual(BURST - (signedIn ? 2 * LIMIT : LIMIT));
}

function tally(outcomes: Outcome[]) {
  const checked = outcomes.filter((o) => o === "SIGNED_IN" || o === "UNAUTHENTICATED").length;
  const limited = outcomes.filter((o) => o === "RATE_LIMITED").length;
  return { checked, limited, other: outcomes.length - checked - limited };
}

describe.each([
  ["in-process limiter", null],
  ["Redis-backed limiter", REDIS_URL],
] as const)("%s", (_label, redisUrl) => {
  let server: TestServer | undefined;
  const clients: Client[] = [];
  beforeAll(async () => {
    if (redisUrl && !(await requireService("redis"))) return;
    server = await startTestServer({
      redisUrl,
      env: { LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: String(LIMIT), LOGIN_MAX_ATTEMPTS_PER_CLIENT: "1000000", LOGIN_RATE_WINDOW_SECONDS: "900" },
    });
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await server?.close();
  });

  test.each([false, true])(`${BURST} simultaneous guesses for one account over HTTP (right password among them: %s): at most ${LIMIT} are checked until a sign-in`, async (withRightPassword) => {
    if (!server) return;
    const user = await registerUser(server.url);
    const outcomes = await Promise.all(guesses(user, withRightPassword).map((pw) => loginOverHttp(server!, freshAddress(), user.email, pw)));
    expectThrottled(outcomes, withRightPassword);
  });

  test.each([false, true])(`${BURST} simultaneous guesses for one account over one graphql-ws socket (right password among them: %s): at most ${LIMIT} are checked until a sign-in`, async (withRightPassword) => {
    if (!server) return;
    const user = await registerUser(server.url);
    const client = wsClient(server.wsUrl);
    clients.push(client);
    const outcomes = await Promise.all(guesses(user, withRightPassword).map((pw) => loginOverWs(client, user.email, pw)));
    expectThrottled(outcomes, withRightPassword);
  });
});

describe("per client address", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: "1000", LOGIN_MAX_ATTEMPTS_PER_CLIENT: String(LIMIT), LOGIN_RATE_WINDOW_SECONDS: "900" } });
  });
  afterAll(async () => {
    await server.close();
  });

  test(`${BURST} simultaneous wrong guesses from one address across accounts: at most ${LIMIT} are checked`, async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => registerUser(server.url)));
    const from = freshAddress();
    const outcomes = await Promise.all(Array.from({ length: BURST }, (_, i) => loginOverHttp(server, from, users[i % users.length]!.email, `wrong-${i}`)));
    const t = tally(outcomes);
    expect(t.other).toBe(0);
    expect(t.checked).toBeLessThanOrEqual(LIMIT);
    // A refused attempt gives back the account's point: every account may still sign in from elsewhere.
    for (const u of users) expect(await loginOverHttp(server, freshAddress(), u.email, u.password)).toBe("SIGNED_IN");
  });
});
