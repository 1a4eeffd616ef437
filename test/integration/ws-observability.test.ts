import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type GraphQLFieldConfig } from "graphql";
import { createClient, type Client } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import pino from "pino";
import WebSocket, { WebSocketServer } from "ws";
import { Metrics } from "../../src/observability/metrics";
import { currentRequestId } from "../../src/observability/request-context";
import { withWsObservability } from "../../src/observability/ws-metrics";
import { sampleValue } from "../unit/prometheus-text";
import { subscribe, type LiveSubscription } from "../support/graphql-client";
import { sleep } from "../support/wait";

// A real graphql-ws server (graphql-ws 6 over `ws`) wrapped by withWsObservability, on a small
// schema whose resolvers report the request id they run under, driven by real clients.

interface Ctx {
  requestId: string;
}
type Seen = { fromContext: string; current: string | null };
const seenType = new GraphQLObjectType({ name: "Seen", fields: { fromContext: { type: GraphQLString }, current: { type: GraphQLString } } });
const seen = (ctx: Ctx): Seen => ({ fromContext: ctx.requestId, current: currentRequestId() ?? null });
const ticks: GraphQLFieldConfig<unknown, Ctx> = {
  type: seenType,
  subscribe: async function* () {
    for (;;) {
      await sleep(10);
      yield {};
    }
  },
  resolve: (_src, _args, ctx) => seen(ctx),
};
const schema = new GraphQLSchema({
  query: new GraphQLObjectType<unknown, Ctx>({ name: "Query", fields: { whoami: { type: seenType, resolve: (_s, _a, ctx) => seen(ctx) } } }),
  subscription: new GraphQLObjectType<unknown, Ctx>({ name: "Subscription", fields: { ticks } }),
});
const TicksDocument = parse("subscription Ticks { ticks { fromContext current } }");
const WhoamiDocument = parse("query Whoami { whoami { fromContext current } }");

let metrics: Metrics;
let http: Server;
let wsUrl: string;
let dispose: () => Promise<void>;
const clients: Client[] = [];

beforeEach(async () => {
  metrics = new Metrics({ defaultMetrics: false });
  http = createServer();
  const wss = new WebSocketServer({ server: http, path: "/graphql" });
  const cleanup = useServer<{ token?: string }>(
    withWsObservability(
      {
        schema,
        onConnect: (ctx) => ctx.connectionParams?.token !== "bad",
        context: () => ({ requestId: randomUUID() }),
      },
      { metrics, log: pino({ level: "silent" }) },
    ),
    wss,
  );
  dispose = async () => {
    await cleanup.dispose();
  };
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  wsUrl = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await dispose();
  await new Promise<void>((r) => http.close(() => r()));
});

function client(token?: string): Client {
  const c = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: token ? { token } : {} });
  clients.push(c);
  return c;
}

async function gauges() {
  const text = await metrics.render();
  return { connections: sampleValue(text, "graphql_ws_connections"), subscriptions: sampleValue(text, "graphql_ws_subscriptions") };
}

/** Polls until the gauges read `want` (the server handles a close asynchronously); fails after 10 s. */
async function gaugesBecome(want: { connections: number; subscriptions: number }) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const now = await gauges();
    if ((now.connections === want.connections && now.subscriptions === want.subscriptions) || Date.now() > deadline) return now;
    await sleep(20);
  }
}

test("a connection and its subscriptions move the gauges up, and completing and disposing bring them back to 0", async () => {
  const c = client();
  const a: LiveSubscription<{ ticks: Seen }> = subscribe(c, TicksDocument, {});
  const b: LiveSubscription<{ ticks: Seen }> = subscribe(c, TicksDocument, {});
  await a.waitFor(1);
  await b.waitFor(1);
  expect(await gauges()).toEqual({ connections: 1, subscriptions: 2 });
  a.stop();
  expect(await gaugesBecome({ connections: 1, subscriptions: 1 })).toEqual({ connections: 1, subscriptions: 1 });
  await c.dispose();
  expect(await gaugesBecome({ connections: 0, subscriptions: 0 })).toEqual({ connections: 0, subscriptions: 0 });
});

test("a socket that drops with active subscriptions leaves both gauges at 0", async () => {
  const raw = new WebSocket(wsUrl, "graphql-transport-ws");
  const nexts = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    raw.on("error", reject);
    raw.on("open", () => raw.send(JSON.stringify({ type: "connection_init", payload: {} })));
    raw.on("message", (data) => {
      const msg = JSON.parse(String(data)) as { type: string; id?: string };
      if (msg.type === "connection_ack") {
        for (const id of ["s1", "s2", "s3"]) raw.send(JSON.stringify({ id, type: "subscribe", payload: { query: "subscription { ticks { current } }" } }));
      }
      if (msg.type === "next") nexts.add(msg.id!);
      if (nexts.size === 3) resolve();
    });
  });
  expect(await gauges()).toEqual({ connections: 1, subscriptions: 3 });
  raw.terminate(); // no close frame, no complete messages: the abrupt case
  expect(await gaugesBecome({ connections: 0, subscriptions: 0 })).toEqual({ connections: 0, subscriptions: 0 });
});

test("refused connections, queries and refused subscriptions are not counted as live", async () => {
  const refused = client("bad");
  const attempt = subscribe(refused, TicksDocument, {});
  expect(await attempt.ended).toBeDefined();

  const c = client();
  const q = subscribe(c, WhoamiDocument, {});
  await q.ended;
  const invalid = subscribe(c, parse("subscription { nosuch }"), {});
  // graphql-ws reports validation errors as an error message: the sink's error gets them.
  expect(await invalid.ended).toEqual([expect.objectContaining({ message: expect.stringMatching(/nosuch/) })]);
  expect(await gauges()).toEqual({ connections: 1, subscriptions: 0 });
  await c.dispose();
  expect(await gaugesBecome({ connections: 0, subscriptions: 0 })).toEqual({ connections: 0, subscriptions: 0 });
});

test("queries and every subscription event run inside their operation's request context", async () => {
  const c = client();
  const q = subscribe<{ whoami: Seen }, Record<string, never>>(c, WhoamiDocument, {});
  const [answer] = await q.waitFor(1);
  expect(answer!.data!.whoami.current).toBe(answer!.data!.whoami.fromContext);

  const sub = subscribe<{ ticks: Seen }, Record<string, never>>(c, TicksDocument, {});
  const events = await sub.waitFor(3);
  const ids = events.map((e) => e.data!.ticks);
  for (const e of ids) expect(e.current).toBe(e.fromContext);
  expect(new Set(ids.map((e) => e.fromContext)).size).toBe(1);
  expect(ids[0]!.fromContext).not.toBe(answer!.data!.whoami.fromContext);
  sub.stop();
});

test("queries over graphql-ws are timed like HTTP ones, by operation name and outcome", async () => {
  const c = client();
  await subscribe(c, WhoamiDocument, {}).ended;
  await subscribe(c, WhoamiDocument, {}).ended;
  const text = await metrics.render();
  expect(sampleValue(text, "graphql_request_duration_seconds_count", { operation: "Whoami", outcome: "ok" })).toBe(2);
  expect(sampleValue(text, "graphql_request_duration_seconds_count", { operation: "Ticks", outcome: "ok" })).toBeUndefined();
});
