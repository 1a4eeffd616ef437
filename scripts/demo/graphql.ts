import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

/** One GraphQL error as the server formats it. */
export interface GqlError {
  message: string;
  extensions?: { code?: string; reason?: string; [k: string]: unknown };
}

/** An operation that answered with errors; `code`/`reason` come from the first error. */
export class GraphQLRequestError extends Error {
  override name = "GraphQLRequestError";
  readonly code: string | undefined;
  readonly reason: string | undefined;

  constructor(
    readonly operation: string,
    readonly errors: GqlError[],
    readonly status: number,
  ) {
    super(`${operation}: HTTP ${status}: ${errors.map((e) => `${e.extensions?.code ?? "?"}${e.extensions?.reason ? `/${e.extensions.reason}` : ""} ${e.message}`).join("; ")}`);
    this.code = errors[0]?.extensions?.code;
    this.reason = errors[0]?.extensions?.reason;
  }
}

/** True when `err` is the outcome of losing a race for a slot: CONFLICT / SLOT_UNAVAILABLE. */
export function isSlotConflict(err: unknown): boolean {
  return err instanceof GraphQLRequestError && err.code === "CONFLICT" && err.reason === "SLOT_UNAVAILABLE";
}

/**
 * Sends one operation over HTTP as a plain client would (JSON POST, optional bearer
 * token) and returns `data`.
 *
 * @throws GraphQLRequestError when the answer carries errors or no data
 */
export async function request<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const operation = /^\s*(?:query|mutation|subscription)\s+(\w+)/.exec(query)?.[1] ?? "operation";
  let body: { data?: T | null; errors?: GqlError[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new GraphQLRequestError(operation, [{ message: `non-JSON answer (${res.headers.get("content-type") ?? "no content-type"})` }], res.status);
  }
  if (body.errors?.length || !body.data) throw new GraphQLRequestError(operation, body.errors ?? [{ message: "no data" }], res.status);
  return body.data;
}

/**
 * A real graphql-ws client over `ws`, connecting at once; `connected` settles when the
 * server acknowledged the connection (or rejects when it closed it, e.g. 4403 for a bad token).
 */
export function openWsClient(wsUrl: string, token?: string, timeoutMs = 10_000): { client: Client; connected: Promise<void> } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const connected = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new Error(`graphql-ws connection to ${wsUrl} not acknowledged in ${timeoutMs} ms`)), timeoutMs);
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    onNonLazyError: () => undefined,
    on: {
      connected: () => {
        clearTimeout(timer);
        resolve();
      },
      closed: (event) => {
        clearTimeout(timer);
        const e = event as { code?: number; reason?: string };
        reject(new Error(`graphql-ws connection closed: ${e.code ?? "?"} ${e.reason ?? ""}`.trim()));
      },
    },
  });
  // Only the first settlement counts; a later close is reported by the subscriptions themselves.
  connected.catch(() => undefined);
  return { client, connected };
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Derives `ws(s)://…/graphql` and `http(s)://…/healthz` from the HTTP GraphQL endpoint. */
export function endpointsOf(url: string): { url: string; wsUrl: string; healthUrl: string } {
  const u = new URL(url);
  const ws = new URL(u.href);
  ws.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return { url: u.href, wsUrl: ws.href, healthUrl: new URL("/healthz", u).href };
}
