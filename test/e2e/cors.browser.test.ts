import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import WebSocket from "ws";
import { BROWSER_WAIT_MS, browserTestFn, launchChromium } from "../support/browser";
import { registerUser, type TestUser } from "../support/factories";
import { startTestServer, type TestServer } from "../support/test-server";

const browserTest = browserTestFn("the CORS browser tests");

/** A page server on its own port of 127.0.0.1, i.e. a browser app on another origin than the API. */
async function startPageServer(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>a browser app</title>"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let api: TestServer;
let allowed: Awaited<ReturnType<typeof startPageServer>>;
let refused: Awaited<ReturnType<typeof startPageServer>>;
let customer: TestUser;
let browser: Browser | undefined;

beforeAll(async () => {
  allowed = await startPageServer();
  refused = await startPageServer();
  // A second entry, so the test shows a list is honoured entry by entry.
  api = await startTestServer({ env: { CORS_ORIGINS: `https://app.example.com,${allowed.origin}` } });
  customer = await registerUser(api.url, "CUSTOMER");
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await Promise.all([allowed, refused].map((p) => p && new Promise((resolve) => p.server.close(resolve))));
});

/** A fresh browser context on `origin`'s page. */
async function pageOn(origin: string): Promise<Page> {
  browser ??= await launchChromium();
  const context = await browser.newContext();
  context.setDefaultTimeout(BROWSER_WAIT_MS);
  const page = await context.newPage();
  await page.goto(`${origin}/`, { waitUntil: "load" });
  return page;
}

type FetchOutcome = { ok: true; status: number; body: unknown; requestId: string | null } | { ok: false; error: string };

/** Runs `fetch(url, init)` in the page (so the browser applies CORS) and reports what the page's script sees. */
function fetchFromPage(page: Page, url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<FetchOutcome> {
  return page.evaluate(
    async ([u, i]) => {
      try {
        const res = await fetch(u, i);
        return { ok: true as const, status: res.status, body: await res.json(), requestId: res.headers.get("x-request-id") };
      } catch (err) {
        return { ok: false as const, error: String(err) };
      }
    },
    [url, init] as const,
  );
}

/** Opens a graphql-ws socket from the page and reports whether the server acknowledged it. */
function socketFromPage(page: Page, wsUrl: string): Promise<string> {
  // A string, not a function: this file's `WebSocket` is the `ws` import, the page's is the browser's.
  return page.evaluate(`new Promise((resolve) => {
    const ws = new WebSocket(${JSON.stringify(wsUrl)}, "graphql-transport-ws");
    ws.onopen = () => ws.send(JSON.stringify({ type: "connection_init", payload: {} }));
    ws.onmessage = (m) => { resolve(JSON.parse(String(m.data)).type); ws.close(); };
    ws.onclose = (e) => resolve("closed " + e.code);
  })`) as Promise<string>;
}

const ME = JSON.stringify({ query: "{ me { email } }" });

browserTest("a page on a CORS_ORIGINS origin calls the API with a bearer token (preflighted POST), reads x-request-id, and opens a socket", async () => {
  const page = await pageOn(allowed.origin);
  const post = await fetchFromPage(page, api.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${customer.token}` }, body: ME });
  expect(post).toMatchObject({ ok: true, status: 200, body: { data: { me: { email: customer.email } } } });
  expect(post.ok && post.requestId).toMatch(/\S/);

  // GET is a "simple" request a browser sends without a preflight, so Apollo's CSRF prevention
  // refuses it unless a header forces one; with the header it runs.
  const getUrl = `${api.url}?query=${encodeURIComponent("{ __typename }")}`;
  const bare = await fetchFromPage(page, getUrl, { method: "GET", headers: {} });
  expect(bare).toMatchObject({ ok: true, status: 400 });
  expect(JSON.stringify(bare)).toContain("apollo-require-preflight");
  await expect(fetchFromPage(page, getUrl, { method: "GET", headers: { "apollo-require-preflight": "true" } })).resolves.toMatchObject({
    ok: true,
    status: 200,
    body: { data: { __typename: "Query" } },
  });

  await expect(socketFromPage(page, api.wsUrl)).resolves.toBe("connection_ack");
});

browserTest("a page on any other origin gets nothing: the browser refuses the answer and the server refuses the socket", async () => {
  const page = await pageOn(refused.origin);
  const post = await fetchFromPage(page, api.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${customer.token}` }, body: ME });
  expect(post).toEqual({ ok: false, error: expect.stringMatching(/Failed to fetch/) });
  // A "simple" request skips the preflight, so CORS alone would let it run unseen: Apollo's CSRF
  // prevention refuses it (400), and the browser does not hand over that answer either.
  const simple = await fetchFromPage(page, api.url, { method: "POST", headers: { "content-type": "text/plain" }, body: ME });
  expect(simple).toEqual({ ok: false, error: expect.stringMatching(/Failed to fetch/) });
  // 1006: the handshake failed (the server answered 403 instead of switching protocols).
  await expect(socketFromPage(page, api.wsUrl)).resolves.toBe("closed 1006");
});

describe("without a browser", () => {
  const preflight = (origin: string) =>
    fetch(api.url, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type,apollo-require-preflight" },
    });

  test("a preflight from a listed origin is allowed for POST with authorization, content-type and apollo-require-preflight", async () => {
    const res = await preflight(allowed.origin);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed.origin);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization,content-type,apollo-require-preflight");
    expect(res.headers.get("access-control-max-age")).toBe("600");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("vary")).toMatch(/origin/i);
    expect((await preflight("https://app.example.com")).headers.get("access-control-allow-origin")).toBe("https://app.example.com");
  });

  test("a preflight or request from another origin carries no CORS header", async () => {
    expect((await preflight(refused.origin)).headers.get("access-control-allow-origin")).toBeNull();
    const res = await fetch(api.url, { method: "POST", headers: { origin: refused.origin, "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("WebSocket upgrades: refused (403) from an unlisted origin; allowed from a listed one, the API's own host, or without Origin", async () => {
    const handshake = (origin?: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(api.wsUrl, "graphql-transport-ws", origin ? { origin } : {});
        ws.on("open", () => {
          ws.close();
          resolve("open");
        });
        ws.on("unexpected-response", (_req, res) => {
          resolve(`HTTP ${res.statusCode}`);
          ws.terminate();
        });
        ws.on("error", (err) => resolve(`error ${err.message}`));
      });
    expect(await handshake(refused.origin)).toBe("HTTP 403");
    expect(await handshake("https://evil.example.com")).toBe("HTTP 403");
    expect(await handshake(allowed.origin)).toBe("open");
    expect(await handshake(new URL(api.url).origin)).toBe("open");
    expect(await handshake(undefined)).toBe("open");
  });
});
