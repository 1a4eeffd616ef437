import { Writable } from "node:stream";
import { ApolloServer } from "@apollo/server";
import { GraphQLError, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import pino from "pino";
import { apolloMetricsPlugin } from "../../src/observability/apollo-metrics-plugin";
import { Metrics } from "../../src/observability/metrics";
import { sampleValue } from "./prometheus-text";

// A real Apollo Server on a two-field schema: `hello` answers, `boom` fails with a coded error.
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: "Query",
    fields: {
      hello: { type: GraphQLString, resolve: () => "hi" },
      boom: {
        type: GraphQLString,
        resolve: () => {
          throw new GraphQLError("nope", { extensions: { code: "FORBIDDEN" } });
        },
      },
    },
  }),
});

interface Ctx {
  requestId: string;
}

let metrics: Metrics;
let lines: Record<string, unknown>[];
let apollo: ApolloServer<Ctx>;

beforeEach(async () => {
  metrics = new Metrics({ defaultMetrics: false });
  lines = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  apollo = new ApolloServer<Ctx>({ schema, plugins: [apolloMetricsPlugin(metrics, pino({ level: "info" }, sink))] });
  await apollo.start();
});

afterEach(() => apollo.stop());

const run = (query: string, requestId: string, operationName?: string) =>
  apollo.executeOperation({ query, operationName }, { contextValue: { requestId } });

test("a successful named operation is timed as outcome=ok and logged once with its request id", async () => {
  await run("query Greeting { hello }", "req-ok-1");
  const text = await metrics.render();
  expect(sampleValue(text, "graphql_request_duration_seconds_count", { operation: "Greeting", outcome: "ok" })).toBe(1);
  expect(sampleValue(text, "graphql_request_duration_seconds_count", { operation: "Greeting", outcome: "error" })).toBeUndefined();
  const ops = lines.filter((l) => l.msg === "graphql operation");
  expect(ops).toHaveLength(1);
  expect(ops[0]).toMatchObject({ level: 30, requestId: "req-ok-1", operationName: "Greeting", operationType: "query", outcome: "ok", errorCodes: [] });
  expect(typeof ops[0]!.durationMs).toBe("number");
});

test("an operation whose response carries errors is outcome=error, with the error codes logged", async () => {
  await run("query Explode { boom }", "req-err-1");
  await run("query Explode { boom }", "req-err-2");
  const text = await metrics.render();
  expect(sampleValue(text, "graphql_request_duration_seconds_count", { operation: "Explode", outcome: "error" })).toBe(2);
  expect(lines.filter((l) => l.msg === "graphql operation").map((l) => [l.requestId, l.outcome, l.errorCodes])).toEqual([
    ["req-err-1", "error", ["FORBIDDEN"]],
    ["req-err-2", "error", ["FORBIDDEN"]],
  ]);
});

test("anonymous operations and documents that fail validation are recorded too", async () => {
  await run("{ hello }", "req-anon");
  await run("query Broken { nosuchfield }", "req-invalid");
  const text = await metrics.render();
  expect(sampleValue(text, "graphql_request_duration_seconds_count", { operation: "anonymous", outcome: "ok" })).toBe(1);
  // The operation never resolved; the name the client sent is all there is.
  await run("query Broken { nosuchfield }", "req-invalid-2", "Broken");
  const after = await metrics.render();
  expect(sampleValue(after, "graphql_request_duration_seconds_count", { operation: "Broken", outcome: "error" })).toBe(1);
  expect(sampleValue(after, "graphql_request_duration_seconds_count", { operation: "anonymous", outcome: "error" })).toBe(1);
  const invalid = lines.find((l) => l.requestId === "req-invalid");
  expect(invalid).toMatchObject({ outcome: "error", errorCodes: ["GRAPHQL_VALIDATION_FAILED"] });
});
