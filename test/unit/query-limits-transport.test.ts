import { ApolloServer, type GraphQLResponse } from "@apollo/server";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { loadConfig } from "../../src/config";
import { createInMemoryPubSub } from "../../src/events/pubsub";
import { buildAppSchema } from "../../src/graphql/build-schema";
import { createQueryLimitsPlugin, limitWsOperation, type QueryLimits } from "../../src/graphql/query-limits";

/**
 * The two ways the limits reach requests: the Apollo plugin (HTTP) on a real Apollo Server
 * over the application schema, and the graphql-ws `onSubscribe` hook. Whether an operation
 * ran is seen through the services the resolvers call, which here only record the call.
 */
/** 11 fields deep (the default limit is 10), yet valid: see query-limits.test.ts. */
const DEEP_INTROSPECTION = "{ __schema { directives { args { type { fields { args { type { inputFields { type { enumValues { name } } } } } } } } } } }";
const LIMITS: QueryLimits = loadConfig({}).queryLimits;
let schema: GraphQLSchema;
let apollo: ApolloServer<object>;
beforeAll(async () => {
  schema = await buildAppSchema(createInMemoryPubSub());
  apollo = new ApolloServer<object>({ schema, plugins: [createQueryLimitsPlugin(LIMITS)] });
  await apollo.start();
});
afterAll(async () => {
  await apollo.stop();
});

/** A context whose services record which service methods the resolvers reached. */
function recordingContext() {
  const calls: string[] = [];
  const services = new Proxy({}, {
    get: (_t, service) =>
      new Proxy({}, {
        get: (_s, method) => async () => {
          calls.push(`${String(service)}.${String(method)}`);
          return { id: "00000000-0000-4000-8000-000000000000" };
        },
      }),
  });
  return { calls, context: { viewer: null, services, loaders: {} } };
}

async function run(query: string, variables?: Record<string, unknown>) {
  const { calls, context } = recordingContext();
  const response: GraphQLResponse = await apollo.executeOperation({ query, variables }, { contextValue: context });
  if (response.body.kind !== "single") throw new Error("expected a single result");
  return { status: response.http.status, errors: response.body.singleResult.errors, calls };
}

const createProviders = (n: number) =>
  `mutation ($i: CreateProviderInput!) { ${Array.from({ length: n }, (_, k) => `p${k}: createProvider(input: $i) { id }`).join(" ")} }`;
const input = { i: { name: "Clinic", timeZone: "Europe/Berlin" } };

describe("Apollo plugin (HTTP)", () => {
  it("runs an operation within the limits", async () => {
    const r = await run(createProviders(2), input);
    expect(r.calls).toEqual(["provider.createProvider", "provider.createProvider"]);
  });

  it.each([
    ["QUERY_TOO_DEEP", DEEP_INTROSPECTION, undefined],
    ["QUERY_TOO_COSTLY", "{ providers(first: 100) { edges { node { schedule { overrides { windows { startTime endTime } } } } } } }", undefined],
    ["TOO_MANY_ALIASES", createProviders(LIMITS.maxAliases + 1), input],
    ["DOCUMENT_TOO_LARGE", `${createProviders(1)} # ${"x".repeat(LIMITS.maxDocumentBytes)}`, input],
  ])("refuses %s with 400 before anything runs", async (reason, query, variables) => {
    const r = await run(query, variables);
    expect(r.status).toBe(400);
    expect(r.errors).toHaveLength(1);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason });
    // Apollo moves the status onto the response; it does not leak into the error.
    expect(r.errors?.[0]?.extensions?.http).toBeUndefined();
    expect(r.calls).toEqual([]);
  });

  it("refuses an oversized document without parsing it", async () => {
    const query = `{ this is not { GraphQL ${"é".repeat(LIMITS.maxDocumentBytes / 2)}`;
    const r = await run(query);
    expect(r.status).toBe(400);
    expect(r.errors?.map((e) => e.extensions?.reason)).toEqual(["DOCUMENT_TOO_LARGE"]);
    expect(r.errors?.[0]?.message).toBe(`The document is ${Buffer.byteLength(query)} bytes; the maximum is ${LIMITS.maxDocumentBytes} bytes.`);
  });

  it("refuses an oversized persisted-query registration instead of complaining about its hash", async () => {
    const query = `{ me { id } } # ${"x".repeat(LIMITS.maxDocumentBytes)}`;
    const response = await apollo.executeOperation({ query, extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } });
    expect(response.http.status).toBe(400);
    expect(response.body.kind === "single" && response.body.singleResult.errors?.[0]?.extensions?.reason).toBe("DOCUMENT_TOO_LARGE");
  });
});

describe("graphql-ws onSubscribe hook", () => {
  const hook = () => limitWsOperation(schema, LIMITS);
  const payload = (query: string, variables?: Record<string, unknown>, operationName?: string) => ({ query, variables, operationName });
  const reasons = (r: unknown) => (r as GraphQLError[]).map((e) => e.extensions.reason ?? e.extensions.code ?? e.message);

  it("returns the execution arguments of a valid operation, without a contextValue key", async () => {
    const args = await hook()({}, "1", payload("query Me { me { id } }", { x: 1 }, "Me"));
    expect(Array.isArray(args)).toBe(false);
    expect(args).toMatchObject({ schema, variableValues: { x: 1 }, operationName: "Me" });
    // graphql-ws fills in its `context` option only when the key is absent (not merely undefined).
    expect("contextValue" in (args as object)).toBe(false);
    expect("rootValue" in (args as object)).toBe(false);
  });

  it("answers a syntax error with an error instead of closing the socket", async () => {
    const r = await hook()({}, "1", payload("{ me { id "));
    expect(r).toHaveLength(1);
    expect((r as GraphQLError[])[0]).toBeInstanceOf(GraphQLError);
    expect(reasons(r)).toEqual(["GRAPHQL_PARSE_FAILED"]);
  });

  it("returns validation errors", async () => {
    const r = await hook()({}, "1", payload("{ nope }"));
    expect((r as GraphQLError[])[0]?.message).toMatch(/Cannot query field "nope"/);
  });

  it.each([
    ["QUERY_TOO_DEEP", DEEP_INTROSPECTION],
    ["QUERY_TOO_COSTLY", "{ providers(first: 100) { edges { node { schedule { overrides { windows { startTime endTime } } } } } } }"],
    ["TOO_MANY_ALIASES", `subscription { slotAvailabilityChanged(providerId: "x") { ${Array.from({ length: 31 }, (_, i) => `s${i}: slot { id }`).join(" ")} } }`],
    ["DOCUMENT_TOO_LARGE", `{ me { id } } # ${"x".repeat(LIMITS.maxDocumentBytes)}`],
  ])("refuses %s", async (reason, query) => {
    const r = await hook()({}, "1", payload(query));
    expect(reasons(r)).toEqual([reason]);
    expect((r as GraphQLError[])[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason });
    expect((r as GraphQLError[])[0]?.extensions.http).toBeUndefined();
  });

  it("reuses a validated document, yet checks the cost of every subscribe against its own variables", async () => {
    const subscribe = hook();
    const query = "query P($first: Int) { providers(first: $first) { edges { node { schedule { overrides { windows { startTime endTime } } } } } } }";
    const cheap = await subscribe({}, "1", payload(query, { first: 1 }));
    expect(Array.isArray(cheap)).toBe(false);
    // Same text, so the cached document: the cost still follows this subscribe's variables.
    expect(reasons(await subscribe({}, "2", payload(query, { first: 100 })))).toEqual(["QUERY_TOO_COSTLY"]);
    const again = await subscribe({}, "3", payload(query, { first: 1 }));
    expect((again as { document: unknown }).document).toBe((cheap as { document: unknown }).document);
    // An invalid text is never cached as valid: it fails every time.
    for (const id of ["4", "5"]) expect((await subscribe({}, id, payload("{ nope }")) as GraphQLError[])[0]?.message).toMatch(/Cannot query field "nope"/);
  });

  it("checks the size before parsing", async () => {
    const r = await hook()({}, "1", payload(`{ broken ${"x".repeat(LIMITS.maxDocumentBytes)}`));
    expect(reasons(r)).toEqual(["DOCUMENT_TOO_LARGE"]);
  });

  it("refuses introspection when asked to (production)", async () => {
    const r = await limitWsOperation(schema, LIMITS, { introspection: false })({}, "1", payload("{ __schema { queryType { name } } }"));
    expect((r as GraphQLError[])[0]?.message).toMatch(/introspection/i);
    const allowed = await hook()({}, "1", payload("{ __schema { queryType { name } } }"));
    expect(Array.isArray(allowed)).toBe(false);
  });
});
