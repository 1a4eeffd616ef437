import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { channelName, type Topic } from "../../src/events/pubsub";
import { addSlots, bookSlot, createProvider, registerUser } from "../support/factories";
import { BROWSER_WAIT_MS as WAIT_MS, browserTestFn, launchChromium } from "../support/browser";
import { startTestServer, type TestServer } from "../support/test-server";
import { settle } from "../support/wait";

const browserTest = browserTestFn("the explorer browser tests");

// The README's screenshot is tracked: the tests never touch it unless asked to refresh it
// (`npm run docs:screenshot` sets EXPLORER_SCREENSHOT=docs/explorer.png); otherwise the
// screenshot goes to a temporary directory, so `npm test` leaves the tree clean.
const TRACKED_SCREENSHOT = path.resolve(__dirname, "../../docs/explorer.png");
const REQUESTED_SCREENSHOT = process.env.EXPLORER_SCREENSHOT ? path.resolve(process.env.EXPLORER_SCREENSHOT) : undefined;
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const BROWSER_HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

let server: TestServer;
let origin: string;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  server = await startTestServer();
  origin = new URL(server.url).origin;
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function launch(): Promise<Browser> {
  browser ??= await launchChromium();
  return browser;
}

interface Explorer {
  page: Page;
  /** Every URL the page requested (HTTP) and every WebSocket it opened. */
  requests: string[];
  sockets: string[];
  cspViolations(): Promise<string[]>;
}

/** A fresh browser context (empty localStorage) on the explorer page, with GraphiQL rendered. */
async function openExplorer(): Promise<Explorer> {
  const context = await (await launch()).newContext({ viewport: { width: 1600, height: 860 } });
  contexts.push(context);
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  const requests: string[] = [];
  const sockets: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("websocket", (ws) => sockets.push(ws.url()));
  // Installed before the page's own scripts; a violation would mean the page tried to load
  // something its policy forbids (anything not from this origin).
  await page.addInitScript({
    content: `window.__cspViolations = [];
      document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));`,
  });
  const response = await page.goto(`${origin}/graphql`, { waitUntil: "load", timeout: WAIT_MS });
  expect(response?.status()).toBe(200);
  await page.locator(".graphiql-container .graphiql-query-editor .CodeMirror").waitFor({ timeout: WAIT_MS });
  return { page, requests, sockets, cspViolations: () => page.evaluate("window.__cspViolations") as Promise<string[]> };
}

/** Pastes the token into the bar and waits until the page says it is in use. */
async function useToken(page: Page, token: string): Promise<void> {
  await page.locator("#sw-token").fill(token);
  await page.locator("#sw-token").press("Enter");
  await waitForText(page, "#sw-auth-status", [`…${token.slice(-6)}`], "the token bar");
}

/** Replaces the operation in GraphiQL's query editor, as a paste would, and runs it. */
async function run(page: Page, operation: string): Promise<void> {
  await page.locator(".graphiql-query-editor .CodeMirror").click();
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText(operation);
  // GraphiQL parses the editor on a 100 ms debounce, and only that parse tells its fetcher a
  // subscription (WebSocket) from a query (HTTP). The same callback first saves the text to
  // localStorage, so once it is there the parse is done too.
  for (const deadline = Date.now() + WAIT_MS; (await page.evaluate(`localStorage.getItem("graphiql:query")`)) !== operation; await settle(50)) {
    if (Date.now() > deadline) throw new Error("GraphiQL never took in the edited operation");
  }
  await page.locator(".graphiql-execute-button").click();
}

/** Polls the visible text of `selector` until it contains every one of `parts`. */
async function waitForText(page: Page, selector: string, parts: string[], what: string): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const text = await page.locator(selector).innerText().catch(() => "");
    if (parts.every((p) => text.includes(p))) return text;
    if (Date.now() > deadline) throw new Error(`${what} never showed ${JSON.stringify(parts)} within ${WAIT_MS} ms; it shows: ${text}`);
    await settle(100);
  }
}

/** Same-origin check for everything the page fetched; data: URLs are not requests to anyone. */
function outsideRequests(e: Explorer): string[] {
  const wsOrigin = origin.replace(/^http/, "ws");
  return [...e.requests.filter((u) => !u.startsWith("data:") && new URL(u).origin !== origin), ...e.sockets.filter((u) => new URL(u).origin !== wsOrigin)];
}

/**
 * Resolves once `count` subscribers listen on the topic instance, reading the pub/sub engine
 * (graphql-subscriptions' emitter, or graphql-redis-subscriptions' refs once Redis confirmed).
 */
async function listening(topic: Topic, id: string, count = 1): Promise<void> {
  const channel = channelName(topic, id);
  type Engine = { ee?: { listenerCount(c: string): number }; subsRefsMap?: Map<string, Set<number>> };
  const engine = (server.pubSub as unknown as { engine?: Engine }).engine;
  const current = () => (engine?.subsRefsMap ? (engine.subsRefsMap.get(channel)?.size ?? 0) : engine?.ee?.listenerCount(channel));
  if (current() === undefined) return settle(1_000); // an engine we cannot inspect: fall back to a pause
  for (const deadline = Date.now() + WAIT_MS; (current() ?? 0) < count; await settle(50)) {
    if (Date.now() > deadline) throw new Error(`${current()} of ${count} subscribers listen on ${channel}`);
  }
}

test("GET /graphql gives a browser the explorer under a this-origin-only CSP, and leaves GraphQL requests to Apollo", async () => {
  const res = await fetch(server.url, { headers: { accept: BROWSER_HTML_ACCEPT } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("vary")).toMatch(/accept/i);
  const csp = res.headers.get("content-security-policy") ?? "";
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "font-src 'self' data:", "frame-ancestors 'none'"]) {
    expect(csp).toContain(directive);
  }
  const host = new URL(server.url).host;
  expect(csp).toMatch(new RegExp(`connect-src 'self' ws://${host} wss://${host};`));
  const html = await res.text();
  expect(html).toContain("<title>Slotwise GraphQL explorer</title>");
  expect(html).toContain('id="sw-token"');
  expect(html).not.toMatch(/<script>|<style|\sstyle=/); // nothing inline: the CSP would block it

  const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  expect(urls.length).toBeGreaterThanOrEqual(7);
  for (const url of urls.filter((u) => !u.startsWith("data:"))) {
    expect(url).toMatch(/^\/graphql\/explorer\/assets\/[0-9a-f]{16}\/[\w.-]+\.(js|css)$/);
    const asset = await fetch(origin + url);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(url.endsWith(".js") ? /^text\/javascript/ : /^text\/css/);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(0);
  }
  const stale = urls.find((u) => u.endsWith("graphiql.min.js"))!.replace(/assets\/[0-9a-f]{16}\//, "assets/0000000000000000/");
  expect((await fetch(origin + stale)).status).toBe(404);

  // A GraphQL GET (with a query) and a client that does not prefer HTML still reach Apollo, whose
  // own landing page (loaded from a CDN) must not answer in the explorer's place.
  const get = await fetch(`${server.url}?query=${encodeURIComponent("{ __typename }")}`, {
    headers: { accept: BROWSER_HTML_ACCEPT, "apollo-require-preflight": "true" },
  });
  const body = await get.text();
  expect(body).not.toContain("cdn.apollographql.com");
  expect(get.headers.get("content-type")).toMatch(/json/);
  expect(JSON.parse(body)).toEqual({ data: { __typename: "Query" } });
  const curlish = await fetch(server.url, { headers: { accept: "*/*" } });
  expect(curlish.headers.get("content-type")).toMatch(/json/);
  const post = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", accept: BROWSER_HTML_ACCEPT }, body: JSON.stringify({ query: "{ __typename }" }) });
  expect(await post.json()).toEqual({ data: { __typename: "Query" } });
});

browserTest("in Chromium the explorer loads from this origin only, with GraphiQL and the token bar", async () => {
  const e = await openExplorer();
  await expect(e.page.locator("#sw-token").isVisible()).resolves.toBe(true);
  await waitForText(e.page, "#sw-auth-status", ["No token"], "the token bar");
  await expect(e.page.locator(".graphiql-execute-button").isVisible()).resolves.toBe(true);
  // GraphiQL fetches the schema on load; that request is checked with the others.
  for (const deadline = Date.now() + WAIT_MS; !e.requests.includes(server.url); await settle(100)) {
    if (Date.now() > deadline) throw new Error(`GraphiQL never fetched the schema from ${server.url}: ${e.requests.join(", ")}`);
  }
  expect(e.requests.some((u) => u.includes("/graphql/explorer/assets/") && u.endsWith("graphiql.min.js"))).toBe(true);
  expect(outsideRequests(e)).toEqual([]);
  expect(await e.cspViolations()).toEqual([]);
});

browserTest("a pasted bearer token is sent with a query typed in the editor, and the result shows in the result pane", async () => {
  const customer = await registerUser(server.url, "CUSTOMER");
  const e = await openExplorer();
  await useToken(e.page, customer.token);
  await run(e.page, "{ me { email } }");
  const shown = await waitForText(e.page, ".graphiql-response", [`"email": "${customer.email}"`], "the result pane");
  expect(shown).not.toContain('"errors"');
  expect(await e.page.evaluate(`localStorage.getItem("slotwise.explorer.token")`)).toBe(customer.token);
  expect(outsideRequests(e)).toEqual([]);
  expect(await e.cspViolations()).toEqual([]);
});

browserTest("a subscription started in the explorer shows a live slot event caused by a booking made elsewhere", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner);
  const [slot] = await addSlots(server.url, owner, provider.id, { count: 1 });
  const customer = await registerUser(server.url, "CUSTOMER");
  const e = await openExplorer();
  await useToken(e.page, customer.token);

  await run(e.page, `subscription {\n  slotAvailabilityChanged(\n    providerId: "${provider.id}"\n  ) {\n    slot { id status }\n  }\n}\n`);
  await waitForText(e.page, "#sw-ws-status", ["connected"], "the WebSocket status");
  await listening("SLOT_EVENTS", provider.id);
  await bookSlot(server.url, customer, slot!.id);

  const shown = await waitForText(e.page, ".graphiql-response", [`"id": "${slot!.id}"`, `"status": "HELD"`], "the result pane");
  expect(shown).toContain("slotAvailabilityChanged");
  expect(e.sockets).toEqual([server.wsUrl]);
  expect(outsideRequests(e)).toEqual([]);
  expect(await e.cspViolations()).toEqual([]);

  const trackedBefore = sha256(TRACKED_SCREENSHOT);
  const scratch = REQUESTED_SCREENSHOT ? undefined : mkdtempSync(path.join(tmpdir(), "slotwise-explorer-"));
  const target = REQUESTED_SCREENSHOT ?? path.join(scratch!, "explorer.png");
  try {
    await e.page.screenshot({ path: target });
    expect(readFileSync(target).subarray(1, 4).toString("latin1")).toBe("PNG");
    if (target !== TRACKED_SCREENSHOT) expect(sha256(TRACKED_SCREENSHOT)).toBe(trackedBefore);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
});

browserTest("a refused token is refused on both paths: the query shows UNAUTHENTICATED and the WebSocket closes with 4403", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const provider = await createProvider(server.url, owner);
  const e = await openExplorer();
  await useToken(e.page, "forged.token.value");

  await run(e.page, "{ me { email } }");
  await waitForText(e.page, ".graphiql-response", ["UNAUTHENTICATED"], "the result pane");
  await run(e.page, `subscription { slotAvailabilityChanged(providerId: "${provider.id}") { slot { id } } }`);
  await waitForText(e.page, "#sw-ws-status", ["token rejected (4403)"], "the WebSocket status");
  expect(outsideRequests(e)).toEqual([]);
});
