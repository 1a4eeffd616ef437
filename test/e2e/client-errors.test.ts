import { createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { wsClient, type GqlError } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue 10 item 15: what a client gets wrong is answered as a GraphQL JSON error with an
 * `extensions.code`: a body that is not JSON or is too large (never Express's HTML page, which
 * outside production carries a stack trace), and, in production where introspection is off,
 * validation and coercion errors without graphql-js's "Did you mean …?" schema hints, on HTTP
 * and graphql-ws. Production needs PostgreSQL (DESIGN.md), so that part always runs on it.
 */
async function post(url: string, body: string, contentType = "application/json") {
  const res = await fetch(url, { method: "POST", headers: { "content-type": contentType }, body });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text };
}

function expectJsonError(r: { status: number; contentType: string; text: string }, status: number, reason: string) {
  expect(r.status).toBe(status);
  expect(r.contentType).toMatch(/^application\/json/);
  expect(r.text).not.toMatch(/<html|<pre|\n\s+at /i);
  const body = JSON.parse(r.text) as { errors: GqlError[] };
  expect(body.errors.map((e) => [e.extensions?.code, e.extensions?.reason])).toEqual([["BAD_USER_INPUT", reason]]);
  expect(body.errors[0]!.message.length).toBeGreaterThan(10);
}

function bodyErrorTests(server: () => TestServer) {
  it("answers a malformed JSON body with a JSON error, 400", async () => {
    expectJsonError(await post(server().url, '{"query": "{ __typename }",'), 400, "MALFORMED_JSON");
  });

  it("answers a body over the 1 MB limit with a JSON error, 413", async () => {
    const big = JSON.stringify({ query: "{ __typename }", variables: { pad: "x".repeat(1024 * 1024 + 10) } });
    expectJsonError(await post(server().url, big), 413, "BODY_TOO_LARGE");
  });

  it("still answers a well-formed request", async () => {
    const r = await post(server().url, JSON.stringify({ query: "{ __typename }" }));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ data: { __typename: "Query" } });
  });
}

function wsErrors(url: string, query: string, variables?: Record<string, unknown>): Promise<GqlError[]> {
  const client = wsClient(url);
  return new Promise<GqlError[]>((resolve, reject) => {
    let errors: GqlError[] = [];
    client.subscribe({ query, variables }, {
      next: (r) => (errors = (r.errors as GqlError[] | undefined) ?? []),
      error: (e) => (Array.isArray(e) ? resolve(e as GqlError[]) : reject(e)),
      complete: () => resolve(errors),
    });
  }).finally(() => client.dispose());
}

async function httpErrors(url: string, query: string, variables?: Record<string, unknown>): Promise<GqlError[]> {
  const r = await post(url, JSON.stringify({ query, variables }));
  return (JSON.parse(r.text) as { errors?: GqlError[] }).errors ?? [];
}

/** A misspelt field, argument and enum value (literal and variable), and an unknown input field. */
// Every row has all three entries: jest takes a test function with more parameters than the row for one awaiting `done`.
const TYPOS: [string, string, Record<string, unknown> | undefined][] = [
  ["a misspelt field", "{ providrs { edges { cursor } } }", undefined],
  ["a misspelt argument", "{ providers(frist: 3) { edges { cursor } } }", undefined],
  ["a misspelt enum literal", "{ myBookings(status: PENDIN) { edges { cursor } } }", undefined],
  ["a misspelt enum variable", "query ($s: BookingStatus) { myBookings(status: $s) { edges { cursor } } }", { s: "PENDIN" }],
  ["a misspelt input field", "mutation ($i: CreateProviderInput!) { createProvider(input: $i) { id } }", { i: { name: "n", timeZon: "UTC" } }],
];

describe("the mode's default server (development)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "development", LOG_LEVEL: "silent" } });
  });
  afterAll(async () => {
    await server.close();
  });
  bodyErrorTests(() => server);

  it("keeps the suggestions where introspection is on", async () => {
    const [error] = await httpErrors(server.url, TYPOS[0]![1]);
    expect(error?.message).toMatch(/Did you mean "providers"/);
  });
});

describe("production (introspection off), on PostgreSQL", () => {
  let server: TestServer | undefined;
  let database: TestDatabase | undefined;
  let available = false;
  beforeAll(async () => {
    available = await requireService("postgres");
    if (!available) return;
    database = await createPostgresDatabase();
    server = await startTestServer({ databaseUrl: database.url, env: { NODE_ENV: "production", LOG_LEVEL: "silent" } });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  describe("bodies", () => {
    it("malformed JSON and oversized bodies are JSON errors too", async () => {
      if (!available) return;
      expectJsonError(await post(server!.url, "{not json"), 400, "MALFORMED_JSON");
      expectJsonError(await post(server!.url, JSON.stringify({ query: "x".repeat(1024 * 1024 + 10) })), 413, "BODY_TOO_LARGE");
    });
  });

  describe.each([
    ["HTTP", (q: string, v?: Record<string, unknown>) => httpErrors(server!.url, q, v)],
    ["graphql-ws", (q: string, v?: Record<string, unknown>) => wsErrors(server!.wsUrl, q, v)],
  ] as const)("over %s", (_transport, send) => {
    it.each(TYPOS)("%s: refused without naming what the schema has", async (_name, query, variables) => {
      if (!available) return;
      const errors = await send(query, variables);
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) {
        expect(e.message).not.toMatch(/did you mean/i);
        expect(e.extensions?.code).toEqual(expect.any(String));
      }
    });
  });
});
