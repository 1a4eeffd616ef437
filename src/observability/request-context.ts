import { REQUEST_ID_PATTERN, isValidRequestId } from "../domain/request-id";
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/** What the code running on behalf of one HTTP request or graphql-ws operation may ask about it. */
export interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Runs `fn` with `ctx` as the current request context: everything `fn` starts, synchronously
 * or through awaited promises, sees it, so events written by the services carry the request
 * id without threading it through every call.
 */
export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** The id of the request being served, or undefined outside one (workers, the relay, start-up). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** Header a caller may send to choose the id, and that the response echoes. */
export const REQUEST_ID_HEADER = "x-request-id";


/** The caller's `x-request-id` when it is valid, else a fresh UUID. */
export function resolveRequestId(header: unknown): string {
  return isValidRequestId(header) ? header : randomUUID();
}

/**
 * Wraps an async iterable (a subscription's event stream) so that every step runs inside
 * `ctx`. Without it, each event is resolved in the context of whoever pulls the iterator
 * (graphql-ws's socket handler), which has no request id.
 */
export function bindAsyncIterable<T>(ctx: RequestContext, source: AsyncIterable<T>): AsyncIterableIterator<T> {
  const it = source[Symbol.asyncIterator]();
  const bound: AsyncIterableIterator<T> = {
    next: (...args: [] | [unknown]) => runWithRequestContext(ctx, () => it.next(...args)),
    return: (value?: unknown) =>
      runWithRequestContext(ctx, () => (it.return ? it.return(value as T) : Promise.resolve({ done: true as const, value: value as T }))),
    throw: (err?: unknown) => runWithRequestContext(ctx, () => (it.throw ? it.throw(err) : Promise.reject(err))),
    [Symbol.asyncIterator]() {
      return bound;
    },
  };
  return bound;
}

export { REQUEST_ID_PATTERN, isValidRequestId };
