import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type ExecutionResult } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; reason?: string; [k: string]: unknown };
}

export interface GqlResult<T> {
  status: number;
  data: T | null | undefined;
  errors?: GqlError[];
}

/** Sends one operation over HTTP, as a real client would (JSON POST, optional bearer token). */
export async function execute<TData, TVars>(
  url: string,
  document: TypedDocumentNode<TData, TVars>,
  variables?: TVars,
  token?: string,
  headers: Record<string, string> = {},
): Promise<GqlResult<TData>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await res.json()) as { data?: TData | null; errors?: GqlError[] };
  return { status: res.status, data: body.data, errors: body.errors };
}

/** Like {@link execute} but fails the test on any error; returns `data`. */
export async function executeOk<TData, TVars>(
  url: string,
  document: TypedDocumentNode<TData, TVars>,
  variables?: TVars,
  token?: string,
): Promise<TData> {
  const r = await execute(url, document, variables, token);
  if (r.errors?.length || !r.data) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
  return r.data;
}

/** `extensions.code` of the first error, if any. */
export function errorCode(r: { errors?: GqlError[] }): string | undefined {
  return r.errors?.[0]?.extensions?.code;
}

/** A graphql-ws client (the real `graphql-ws` client over `ws`), optionally authenticated. */
export function wsClient(wsUrl: string, token?: string, opts: { lazy?: boolean } = {}): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: opts.lazy ?? true,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

/** A live subscription whose results are collected in order. */
export interface LiveSubscription<T> {
  results: ExecutionResult<T>[];
  /** Resolves once `count` results (data or errors) have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ExecutionResult<T>[]>;
  /** Resolves when the server completed the subscription or it failed; the error, if any. */
  ended: Promise<unknown>;
  stop(): void;
}

/** Starts a subscription on `client` and collects what arrives. */
export function subscribe<TData, TVars>(
  client: Client,
  document: TypedDocumentNode<TData, TVars>,
  variables: TVars,
): LiveSubscription<TData> {
  const results: ExecutionResult<TData>[] = [];
  const waiters: (() => void)[] = [];
  let endResolve!: (e: unknown) => void;
  const ended = new Promise<unknown>((r) => (endResolve = r));
  const stop = client.subscribe<TData>(
    { query: print(document), variables: variables as Record<string, unknown> },
    {
      next: (value) => {
        results.push(value as ExecutionResult<TData>);
        waiters.splice(0).forEach((w) => w());
      },
      error: (err) => {
        endResolve(err ?? new Error("subscription error"));
        waiters.splice(0).forEach((w) => w());
      },
      complete: () => {
        endResolve(undefined);
        waiters.splice(0).forEach((w) => w());
      },
    },
  );
  return {
    results,
    ended,
    stop,
    waitFor: (count, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} results; got ${results.length}: ${JSON.stringify(results)}`)), timeoutMs);
        const check = () => {
          if (results.length >= count) {
            clearTimeout(timer);
            resolve(results.slice(0, count));
          } else waiters.push(check);
        };
        check();
      }),
  };
}
