import { randomInt } from "node:crypto";
import type { Client } from "graphql-ws";
import WebSocket from "ws";
import { loadConfig } from "../../src/config";
import { SlotAvailabilityChangedDocument } from "../generated/graphql";
import { createProvider, registerUser } from "../support/factories";
import { subscribe, wsClient } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import { settle } from "../support/wait";

/**
 * Issue 10 item 10: live connections are bounded. A socket runs at most
 * WS_MAX_OPERATIONS_PER_CONNECTION operations at once (more: RATE_LIMITED, reason
 * TOO_MANY_OPERATIONS); a client address holds at most WS_MAX_CONNECTIONS_PER_CLIENT sockets (more
 * are refused at the handshake with HTTP 429), the address taken from X-Forwarded-For only when
 * TRUST_PROXY trusts the proxy, like HTTP's `req.ip`.
 */
const MAX_OPS = 5;
const MAX_SOCKETS = 3;
const LIMITS = { WS_MAX_OPERATIONS_PER_CONNECTION: String(MAX_OPS), WS_MAX_CONNECTIONS_PER_CLIENT: String(MAX_SOCKETS) };

const open: WebSocket[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await Promise.all(open.splice(0).map((ws) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : (ws.once("close", () => resolve()), ws.close())))));
});

/** A raw WebSocket handshake from this machine: "open", or the refusing HTTP status. */
function handshake(server: TestServer, headers: Record<string, string> = {}): Promise<"open" | number> {
  const ws = new WebSocket(server.wsUrl, "graphql-transport-ws", { headers });
  open.push(ws);
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve("open"));
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once("error", (err) => (err.message.includes("Unexpected server response") ? undefined : reject(err)));
  });
}

/** Closes `ws` and waits until the server saw it go. */
async function closeSocket(ws: WebSocket): Promise<void> {
  await new Promise<void>((resolve) => {
    ws.once("close", () => resolve());
    ws.close();
  });
  await settle(100);
}

const freshPublicAddress = () => `203.0.113.${randomInt(1, 255)}`;

describe("bounds on one server", () => {
  let server: TestServer;
  let providerId: string;
  beforeAll(async () => {
    server = await startTestServer({ env: LIMITS });
    const owner = await registerUser(server.url, "PROVIDER");
    providerId = (await createProvider(server.url, owner)).id;
  });
  afterAll(async () => {
    await server.close();
  });

  test(`one anonymous socket runs ${MAX_OPS} subscriptions; the next is RATE_LIMITED until one completes`, async () => {
    const client = wsClient(server.wsUrl);
    clients.push(client);
    const subs = Array.from({ length: MAX_OPS }, () => subscribe(client, SlotAvailabilityChangedDocument, { providerId }));
    await settle(300);
    const extra = subscribe(client, SlotAvailabilityChangedDocument, { providerId });
    const refusal = (await extra.ended) as { extensions?: { code?: string; reason?: string } }[];
    expect(refusal[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", reason: "TOO_MANY_OPERATIONS" });
    // The first ones still run; after one stops there is room again.
    for (const s of subs) expect(await Promise.race([s.ended.then(() => "ended"), settle(50).then(() => "running")])).toBe("running");
    subs[0]!.stop();
    await settle(200);
    const again = subscribe(client, SlotAvailabilityChangedDocument, { providerId });
    expect(await Promise.race([again.ended.then(() => "ended"), settle(300).then(() => "running")])).toBe("running");
  });

  test(`one address holds ${MAX_SOCKETS} sockets; the next handshake is 429 until one closes; X-Forwarded-For is ignored without TRUST_PROXY`, async () => {
    for (let i = 0; i < MAX_SOCKETS; i++) expect(await handshake(server, { "x-forwarded-for": freshPublicAddress() })).toBe("open");
    expect(await handshake(server, { "x-forwarded-for": freshPublicAddress() })).toBe(429);
    expect(await handshake(server)).toBe(429);
    await closeSocket(open[0]!);
    expect(await handshake(server)).toBe("open");
  });
});

describe("behind a trusted proxy (TRUST_PROXY=loopback)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...LIMITS, TRUST_PROXY: "loopback" } });
  });
  afterAll(async () => {
    await server.close();
  });

  test("sockets count per forwarded client address", async () => {
    const [a, b] = [freshPublicAddress(), `198.51.100.${randomInt(1, 255)}`];
    for (let i = 0; i < MAX_SOCKETS; i++) expect(await handshake(server, { "x-forwarded-for": a })).toBe("open");
    expect(await handshake(server, { "x-forwarded-for": a })).toBe(429);
    expect(await handshake(server, { "x-forwarded-for": b })).toBe("open");
  });
});

test("the defaults are bounded", () => {
  expect(loadConfig({}).wsLimits).toEqual({ maxConnectionsPerClient: 50, maxOperationsPerConnection: 100 });
});
