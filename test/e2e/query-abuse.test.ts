import { randomUUID } from "node:crypto";
import type { Client } from "graphql-ws";
import { providers } from "../../src/db/schema";
import { createProvider, futureHour, registerUser, type TestUser } from "../support/factories";
import { wsClient, type GqlError } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue #5, abuse: a deep query, an expensive query, an alias flood and an oversized document
 * are refused on HTTP and on graphql-ws alike (`BAD_USER_INPUT` with the limit's `reason`,
 * HTTP 400, the WebSocket left open), and nothing in them runs: refused mutations write nothing.
 * Documents are sent as raw text, exactly as written, by both transports.
 */
type Transport = "HTTP" | "graphql-ws";
const TRANSPORTS: Transport[] = ["HTTP", "graphql-ws"];
const HOUR = 3_600_000;

interface Answer {
  status?: number;
  data?: Record<string, unknown> | null;
  errors?: GqlError[];
  /** graphql-ws only: the same socket still answers afterwards. */
  socketStillOpen?: boolean;
}

async function sendHttp(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown> | null; errors?: GqlError[] };
  return { status: res.status, data: body.data, errors: body.errors };
}

/** One operation on `client`: its last result, or the errors of an `error` message. */
function once(client: Client, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let last: Answer = {};
    // A guard against hanging, not a timing assertion: a refused operation is answered at once.
    const guard = setTimeout(() => reject(new Error(`no answer to ${query.slice(0, 80)}`)), 15_000);
    client.subscribe(
      { query, variables },
      {
        next: (r) => (last = { data: r.data as Record<string, unknown>, errors: r.errors as GqlError[] | undefined }),
        error: (e) => {
          clearTimeout(guard);
          if (Array.isArray(e)) resolve({ errors: e as GqlError[] });
          else reject(new Error(`the socket failed instead of answering: ${JSON.stringify((e as { code?: number })?.code ?? e)}`));
        },
        complete: () => {
          clearTimeout(guard);
          resolve(last);
        },
      },
    );
  });
}

async function sendWs(wsUrl: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<Answer> {
  const client = wsClient(wsUrl, token);
  try {
    const answer = await once(client, query, variables);
    const after = await once(client, "{ __typename }");
    return { ...answer, socketStillOpen: after.data?.__typename === "Query" };
  } finally {
    await client.dispose();
  }
}

function send(s: TestServer, transport: Transport, query: string, variables?: Record<string, unknown>, token?: string) {
  return transport === "HTTP" ? sendHttp(s.url, query, variables, token) : sendWs(s.wsUrl, query, variables, token);
}

function expectRefused(answer: Answer, transport: Transport, reason: string) {
  expect(answer.errors?.map((e) => ({ code: e.extensions?.code, reason: e.extensions?.reason }))).toEqual([{ code: "BAD_USER_INPUT", reason }]);
  expect(answer.data ?? null).toBeNull();
  if (transport === "HTTP") expect(answer.status).toBe(400);
  else expect(answer.socketStillOpen).toBe(true);
}

/** Names of every provider, read from the database (a GraphQL read would itself be bound by the tight limits). */
async function providerNames(s: TestServer): Promise<string[]> {
  return (await s.database.db.select({ name: providers.name }).from(providers)).map((r) => r.name);
}

const aliases = (n: number, field: (i: number) => string) => Array.from({ length: n }, (_, i) => `a${i}: ${field(i)}`).join(" ");

describe("with the default limits", () => {
  let server: TestServer;
  let owner: TestUser;
  beforeAll(async () => {
    server = await startTestServer();
    owner = await registerUser(server.url, "PROVIDER");
  });
  afterAll(async () => {
    await server.close();
  });

  describe.each(TRANSPORTS)("over %s", (transport) => {
    it("refuses a query deeper than 10 fields", async () => {
      // Schema fields nest at most 9 deep; this introspection path is 11 deep and passes graphql's own validation.
      const deep = "{ __schema { directives { args { type { fields { args { type { inputFields { type { enumValues { name } } } } } } } } } } }";
      expectRefused(await send(server, transport, deep), transport, "QUERY_TOO_DEEP");
    });

    it("refuses a page of 100 providers with their owners and schedules, next to 100 bookings", async () => {
      const expensive = `{
        providers(first: 100) { edges { node { id name owner { id email name }
          schedule { weekly { weekday startTime endTime } overrides { date windows { startTime endTime } } } } } }
        myBookings(first: 100) { edges { node { id slot { id provider { id owner { id } } } history { toStatus } } } } }`;
      expectRefused(await send(server, transport, expensive, undefined, owner.token), transport, "QUERY_TOO_COSTLY");
    });

    it("refuses expensive mutations and runs none of them, though each alone is valid", async () => {
      const provider = await createProvider(server.url, owner);
      const start = futureHour(48);
      const windows = Object.fromEntries(
        [0, 1, 2].map((k) => [`w${k}`, { providerId: provider.id, startsAt: new Date(start.getTime() + k * 8 * HOUR).toISOString(), endsAt: new Date(start.getTime() + (k * 8 + 8) * HOUR).toISOString(), slotMinutes: 60 }]),
      );
      const mutation = (selection: string) =>
        `mutation (${Object.keys(windows).map((w) => `$${w}: AddAvailabilityInput!`).join(", ")}) { ${Object.keys(windows).map((w) => `${w}: addAvailability(input: $${w}) ${selection}`).join(" ")} }`;
      const heavy = "{ id provider { owner { id email } schedule { overrides { windows { startTime endTime } } } } }";
      const slotsAhead = async () => {
        const r = await sendHttp(server.url, "query ($p: ID!, $from: DateTimeISO!, $to: DateTimeISO!) { availableSlots(providerId: $p, from: $from, to: $to) { id } }", {
          p: provider.id,
          from: start.toISOString(),
          to: new Date(start.getTime() + 24 * HOUR).toISOString(),
        });
        return (r.data as { availableSlots: unknown[] }).availableSlots.length;
      };

      expectRefused(await send(server, transport, mutation(heavy), windows, owner.token), transport, "QUERY_TOO_COSTLY");
      expect(await slotsAhead()).toBe(0);
      // The same writes asking for less go through: the refusal was the cost, not the input.
      const cheap = await send(server, transport, mutation("{ id }"), windows, owner.token);
      expect(cheap.errors).toBeUndefined();
      expect(await slotsAhead()).toBe(24);
    });

    it("refuses 500 aliases of `me`", async () => {
      expectRefused(await send(server, transport, `{ ${aliases(500, () => "me { id }")} }`, undefined, owner.token), transport, "TOO_MANY_ALIASES");
    });

    it("refuses 500 aliased createProvider mutations and creates no provider", async () => {
      const name = `flood ${randomUUID()}`;
      const flood = `mutation ($i: CreateProviderInput!) { ${aliases(500, () => "createProvider(input: $i) { id }")} }`;
      expectRefused(await send(server, transport, flood, { i: { name, timeZone: "Europe/Berlin" } }, owner.token), transport, "TOO_MANY_ALIASES");
      expect((await providerNames(server)).filter((n) => n === name)).toEqual([]);
    });

    it("refuses a document with a giant string argument", async () => {
      const giant = `{ provider(id: "${"x".repeat(server.config.queryLimits.maxDocumentBytes)}") { id } }`;
      expectRefused(await send(server, transport, giant), transport, "DOCUMENT_TOO_LARGE");
    });

    it("refuses an oversized mutation document and creates no provider", async () => {
      const name = `oversized ${randomUUID()}`;
      // Multi-byte padding: fewer characters than the limit, more bytes.
      const padded = `mutation ($i: CreateProviderInput!) { createProvider(input: $i) { id } } # ${"€".repeat(Math.ceil(server.config.queryLimits.maxDocumentBytes / 3))}`;
      expect(padded.length).toBeLessThan(server.config.queryLimits.maxDocumentBytes);
      expectRefused(await send(server, transport, padded, { i: { name, timeZone: "Europe/Berlin" } }, owner.token), transport, "DOCUMENT_TOO_LARGE");
      expect((await providerNames(server)).filter((n) => n === name)).toEqual([]);
    });
  });

  it("refuses an alias flood inside a subscription before subscribing (graphql-ws)", async () => {
    const provider = await createProvider(server.url, owner);
    const flood = `subscription ($p: ID!) { slotAvailabilityChanged(providerId: $p) { ${aliases(500, () => "slot { id }")} } }`;
    expectRefused(await sendWs(server.wsUrl, flood, { p: provider.id }), "graphql-ws", "TOO_MANY_ALIASES");
  });

  it("still answers every legitimate operation shape", async () => {
    const legit = "query ($first: Int) { providers(first: $first) { edges { cursor node { id name owner { id } } } pageInfo { hasNextPage endCursor } } }";
    for (const transport of TRANSPORTS) {
      const r = await send(server, transport, legit, { first: 100 });
      expect(r.errors).toBeUndefined();
      expect(r.data?.providers).toBeDefined();
    }
  });
});

describe("with limits from configuration", () => {
  let server: TestServer;
  let owner: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ env: { MAX_QUERY_DEPTH: "4", MAX_QUERY_ALIASES: "2", MAX_QUERY_COST: "100", MAX_DOCUMENT_BYTES: "400" } });
    owner = await registerUser(server.url, "PROVIDER");
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(TRANSPORTS)("over %s, runs a mutation exactly at the depth limit and refuses one a level deeper, writing nothing", async (transport) => {
    const name = `depth ${randomUUID()}`;
    const input = { i: { name, timeZone: "Europe/Berlin" } };
    const at = "mutation ($i: CreateProviderInput!) { createProvider(input: $i) { schedule { weekly { weekday } } } }";
    const deeper = "mutation ($i: CreateProviderInput!) { createProvider(input: $i) { schedule { overrides { windows { startTime } } } } }";

    // Lists cost their real bounds (366 overrides), so `deeper` is over the cost limit of 100 as
    // well: HTTP answers the first error, graphql-ws all of them, depth first.
    const refused = await send(server, transport, deeper, input, owner.token);
    if (transport === "graphql-ws") expect(refused.errors?.[1]?.extensions?.reason).toBe("QUERY_TOO_COSTLY");
    if (transport === "graphql-ws") refused.errors = refused.errors?.slice(0, 1);
    expectRefused(refused, transport, "QUERY_TOO_DEEP");
    expect((await providerNames(server)).filter((n) => n === name)).toEqual([]);
    const ok = await send(server, transport, at, input, owner.token);
    expect(ok.errors).toBeUndefined();
    expect((await providerNames(server)).filter((n) => n === name)).toEqual([name]);
  });

  it.each(TRANSPORTS)("over %s, applies the configured alias, cost and size limits", async (transport) => {
    expect((await send(server, transport, "{ a: me { id } b: me { id } }", undefined, owner.token)).errors).toBeUndefined();
    expectRefused(await send(server, transport, "{ a: me { id } b: me { id } c: me { id } }", undefined, owner.token), transport, "TOO_MANY_ALIASES");
    // 1 + 20 (default page) x [edges 1 + node 1 + id 1] = 61; 1 + 40 x 3 = 121
    expect((await send(server, transport, "{ providers { edges { node { id } } } }")).errors).toBeUndefined();
    expectRefused(await send(server, transport, "{ providers(first: 40) { edges { node { id } } } }"), transport, "QUERY_TOO_COSTLY");
    expectRefused(await send(server, transport, `{ me { id } } # ${"x".repeat(400)}`), transport, "DOCUMENT_TOO_LARGE");
  });
});
