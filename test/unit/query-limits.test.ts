import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  Kind,
  getIntrospectionQuery,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  parse,
  print,
  typeFromAST,
  validate,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLError,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import * as demoOperations from "../../scripts/demo/operations";
import { loadConfig } from "../../src/config";
import { createInMemoryPubSub } from "../../src/events/pubsub";
import { buildAppSchema } from "../../src/graphql/build-schema";
import { checkDocumentSize, checkOperationLimits, measureOperation, type QueryLimits } from "../../src/graphql/query-limits";

/** Depth, cost and alias checks on the real application schema; size checks on raw text. */
let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema(createInMemoryPubSub());
});

const DEFAULTS: QueryLimits = loadConfig({}).queryLimits;
const limits = (overrides: Partial<QueryLimits>): QueryLimits => ({ ...DEFAULTS, ...overrides });
const check = (query: string, l: QueryLimits, variables?: Record<string, unknown>, operationName?: string) =>
  checkOperationLimits({ schema, document: parse(query), variables, operationName, limits: l });
const measure = (query: string, variables?: Record<string, unknown>) => measureOperation({ schema, document: parse(query), variables, limits: DEFAULTS })!;
const summary = (errors: GraphQLError[]) => errors.map((e) => ({ code: e.extensions.code, reason: e.extensions.reason, message: e.message }));

/** 11 fields deep, two nested lists of types. */
const DEEP_INTROSPECTION = "{ __schema { directives { args { type { fields { args { type { inputFields { type { enumValues { name } } } } } } } } } } }";

describe("depth", () => {
  // myBookings > edges > node > slot > provider > owner > id: 7 fields deep.
  const seven = "{ myBookings { edges { node { slot { provider { owner { id } } } } } } }";

  it("counts fields along the longest path", () => {
    expect(measure("{ me { id } }").depth).toBe(2);
    expect(measure(seven).depth).toBe(7);
  });

  it("allows an operation exactly at the limit and refuses one level more, saying both numbers", () => {
    expect(check(seven, limits({ maxDepth: 7 }))).toEqual([]);
    expect(summary(check(seven, limits({ maxDepth: 6 })))).toEqual([
      { code: "BAD_USER_INPUT", reason: "QUERY_TOO_DEEP", message: "Query depth 7 exceeds the maximum depth of 6." },
    ]);
  });

  it("counts depth through named and inline fragments", () => {
    const q = `{ myBookings { edges { node { ...B } } } }
      fragment B on Booking { slot { ... on Slot { provider { owner { id } } } } }`;
    expect(measure(q).depth).toBe(7);
    expect(check(q, limits({ maxDepth: 6 }))[0]?.extensions.reason).toBe("QUERY_TOO_DEEP");
  });

  it("refuses, under the default limits, a deep introspection query that graphql's own validation lets through", () => {
    // Schema fields nest at most 9 deep; introspection goes deeper. graphql's MaxIntrospectionDepthRule
    // stops three nested lists of types, not this (two), so the depth limit is what refuses it.
    expect(validate(schema, parse(DEEP_INTROSPECTION))).toEqual([]);
    expect(measure(DEEP_INTROSPECTION).depth).toBe(11);
    expect(check(DEEP_INTROSPECTION, DEFAULTS).map((e) => e.extensions.reason)).toEqual(["QUERY_TOO_DEEP"]);
  });

  it("lets GraphiQL's full introspection query through: ofType unwrapping adds no depth", () => {
    const q = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
    expect(check(q, DEFAULTS)).toEqual([]);
  });
});

describe("cost", () => {
  it("prices a connection at its page size times its selection", () => {
    // 1 (providers) + 10 x [edges 1 + node 1 + id 1]
    expect(measure("{ providers(first: 10) { edges { node { id } } } }").cost).toBe(31);
    // The page size may come from a variable, and defaults to 20 when omitted.
    expect(measure("query ($n: Int) { providers(first: $n) { edges { node { id } } } }", { n: 10 }).cost).toBe(31);
    expect(measure("{ providers { edges { node { id } } } }").cost).toBe(61);
  });

  it("multiplies nested lists: a page of bookings with their history", () => {
    // 1 + 50 x [edges 1 + node 1 + (history 1 + 3 expected entries x toStatus 1)]
    expect(measure("{ myBookings(first: 50) { edges { node { history { toStatus } } } } }").cost).toBe(301);
  });

  it("estimates a page size the resolver refuses at the largest one it accepts", () => {
    expect(measure("{ providers(first: 100000) { edges { node { id } } } }").cost).toBe(measure("{ providers(first: 100) { edges { node { id } } } }").cost);
  });

  it("allows an operation exactly at the limit and refuses one above it, saying both numbers", () => {
    const q = "{ providers(first: 100) { edges { node { owner { id } } } } }"; // 1 + 100 x 4
    expect(check(q, limits({ maxCost: 401 }))).toEqual([]);
    const [error, ...rest] = check(q, limits({ maxCost: 400 }));
    expect(rest).toEqual([]);
    expect(error?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason: "QUERY_TOO_COSTLY", limit: 400, actual: 401 });
    expect(error?.message).toMatch(/^Query cost 401 exceeds the maximum cost of 400\b/);
  });

  it("refuses a page of 100 providers with their owners and schedules under the default limits", () => {
    const q = `{ providers(first: 100) { edges { node { id name owner { id email }
      schedule { weekly { weekday startTime endTime } overrides { date windows { startTime endTime } } } } } } }`;
    expect(check(q, DEFAULTS).map((e) => e.extensions.reason)).toEqual(["QUERY_TOO_COSTLY"]);
    // One provider with its whole schedule is fine: lists cost their real bounds (50 weekly
    // windows, 366 overrides, 732 override windows), so that is what the limit leaves room for.
    expect(check(q.replace("first: 100", "first: 1"), DEFAULTS)).toEqual([]);
    expect(check(q.replace("first: 100", "first: 3"), DEFAULTS).map((e) => e.extensions.reason)).toEqual(["QUERY_TOO_COSTLY"]);
  });

  it("refuses a fragment fan-out that expands exponentially, without expanding it", () => {
    // Each fragment spreads the next one twice: 2^40 copies of `id` once expanded.
    const names = Array.from({ length: 40 }, (_, i) => `F${i}`);
    const fragments = names.map((n, i) =>
      i === names.length - 1 ? `fragment ${n} on User { id }` : `fragment ${n} on User { ...${names[i + 1]} a${i}: id ...${names[i + 1]} }`,
    );
    const errors = check(`{ me { ...F0 } } ${fragments.join(" ")}`, DEFAULTS);
    expect(errors.map((e) => e.extensions.reason)).toEqual(["QUERY_TOO_COSTLY", "TOO_MANY_ALIASES"]);
  });
});

describe("aliases", () => {
  const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(" ")} }`;

  it("allows exactly the limit and refuses one more, saying both numbers", () => {
    expect(check(aliased(30), DEFAULTS)).toEqual([]);
    expect(summary(check(aliased(31), DEFAULTS))).toEqual([
      { code: "BAD_USER_INPUT", reason: "TOO_MANY_ALIASES", message: "Query uses 31 aliases; the maximum is 30." },
    ]);
  });

  it("counts a fragment's aliases at every spread, and only in the operation that runs", () => {
    const q = `query A { a: me { ...U } b: me { ...U } } query B { me { id } }
      fragment U on User { x: id y: id }`;
    expect(measureOperation({ schema, document: parse(q), operationName: "A" })?.aliases).toBe(6);
    expect(check(q, limits({ maxAliases: 5 }), undefined, "A")[0]?.extensions.reason).toBe("TOO_MANY_ALIASES");
    expect(check(q, limits({ maxAliases: 0 }), undefined, "B")).toEqual([]);
  });
});

describe("document size", () => {
  it("counts UTF-8 bytes: exactly the limit passes, one byte more is refused", () => {
    const q = `{ provider(id: "${"x".repeat(100)}") { id } }`;
    const bytes = Buffer.byteLength(q);
    expect(checkDocumentSize(q, limits({ maxDocumentBytes: bytes }))).toEqual([]);
    expect(summary(checkDocumentSize(q, limits({ maxDocumentBytes: bytes - 1 })))).toEqual([
      { code: "BAD_USER_INPUT", reason: "DOCUMENT_TOO_LARGE", message: `The document is ${bytes} bytes; the maximum is ${bytes - 1} bytes.` },
    ]);
  });

  it("counts multi-byte characters by their bytes, not their length", () => {
    // 300 characters of "é" (2 bytes) and "😀" (4 bytes, 2 UTF-16 units): 900 bytes, 450 UTF-16 units.
    const q = `{ provider(id: "${"é😀".repeat(150)}") { id } }`;
    const ascii = q.length - 450;
    expect(Buffer.byteLength(q)).toBe(900 + ascii);
    expect(checkDocumentSize(q, limits({ maxDocumentBytes: 900 + ascii }))).toEqual([]);
    // Refused although its length in UTF-16 units is about half the limit.
    const [error] = checkDocumentSize(q, limits({ maxDocumentBytes: 899 + ascii }));
    expect(q.length).toBeLessThan((899 + ascii) / 1.8);
    expect(error?.extensions).toMatchObject({ reason: "DOCUMENT_TOO_LARGE", actual: 900 + ascii, limit: 899 + ascii });
  });

  it("has nothing to check when there is no query text", () => {
    expect(checkDocumentSize(undefined, DEFAULTS)).toEqual([]);
  });
});

describe("bad input", () => {
  it("never throws, leaving invalid documents and variables to validation and execution", () => {
    const tight = limits({ maxDepth: 1, maxCost: 1, maxAliases: 0 });
    expect(() => check("{ me { ...Missing } }", tight)).not.toThrow();
    expect(() => check("{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }", tight)).not.toThrow();
    expect(() => check("{ nope { nothing } }", tight)).not.toThrow();
    expect(check("query ($n: Int!) { providers(first: $n) { edges { cursor } } }", DEFAULTS, { n: "many" })).toEqual([]);
    expect(check("query A { me { id } }", tight, undefined, "NoSuchOperation")).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Every legitimate operation stays well under the default limits.
// ---------------------------------------------------------------------------

/** A value of the variable's type, as a client would send; page sizes at their maximum. */
function sampleValue(type: GraphQLInputType, name: string): unknown {
  if (isNonNullType(type)) return sampleValue(type.ofType, name);
  if (name === "first") return 100;
  if (isListType(type)) return [sampleValue(type.ofType, name)];
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    return Object.fromEntries(Object.values(type.getFields()).map((f) => [f.name, sampleValue(f.type, f.name)]));
  }
  if (isScalarType(type)) {
    const samples: Record<string, unknown> = { ID: randomUUID(), String: "08:00", Int: 1, Float: 1, Boolean: true, DateTimeISO: new Date().toISOString() };
    if (type.name in samples) return samples[type.name];
  }
  throw new Error(`no sample for ${String(type)}`);
}

/** Each operation with the fragments it uses, as a client sends it. */
function operationsOf(document: DocumentNode): { name: string; document: DocumentNode }[] {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  return document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((op) => {
      const used = new Set<string>();
      const pending: DefinitionNode[] = [op];
      while (pending.length > 0) {
        visit(pending.pop()!, {
          FragmentSpread(node) {
            if (!used.has(node.name.value)) {
              used.add(node.name.value);
              pending.push(fragments.get(node.name.value)!);
            }
          },
        });
      }
      return { name: op.name?.value ?? "(anonymous)", document: { kind: Kind.DOCUMENT, definitions: [op, ...[...used].map((n) => fragments.get(n)!)] } };
    });
}

const testOperations = operationsOf(parse(readFileSync(join(__dirname, "../operations/operations.graphql"), "utf8")));
const demoDocuments = Object.entries(demoOperations as Record<string, unknown>).flatMap(([name, text]) =>
  typeof text === "string" ? [{ name: `demo ${name}`, document: parse(text) }] : [],
);

describe("legitimate operations", () => {
  it("finds the shared operations and the demo's", () => {
    expect(testOperations.length).toBeGreaterThanOrEqual(20);
    expect(demoDocuments.length).toBeGreaterThanOrEqual(10);
  });

  it.each([...testOperations, ...demoDocuments])("$name passes the default limits with room to spare, at the largest page size", ({ document }) => {
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
    const variables = Object.fromEntries(
      (operation.variableDefinitions ?? []).map((v) => [v.variable.name.value, sampleValue(typeFromAST(schema, v.type as never) as GraphQLInputType, v.variable.name.value)]),
    );
    expect(checkOperationLimits({ schema, document, variables, limits: DEFAULTS })).toEqual([]);
    const m = measureOperation({ schema, document, variables, limits: DEFAULTS })!;
    // "Room to spare": a quarter of every limit stays free even at 100 items a page.
    expect(m.cost).toBeDefined();
    expect(m.cost!).toBeLessThanOrEqual(0.75 * DEFAULTS.maxCost);
    expect(m.depth).toBeLessThanOrEqual(0.75 * DEFAULTS.maxDepth);
    expect(m.aliases).toBeLessThanOrEqual(0.75 * DEFAULTS.maxAliases);
    expect(Buffer.byteLength(print(document))).toBeLessThanOrEqual(0.25 * DEFAULTS.maxDocumentBytes);
  });
});
