import { GraphQLError, execute as graphqlExecute, getOperationAST, subscribe as graphqlSubscribe, type ExecutionArgs } from "graphql";
import type { ServerOptions } from "graphql-ws";
import type { Logger } from "pino";
import { DomainError } from "../domain/errors";
import type { Metrics, OperationOutcome } from "./metrics";
import { bindAsyncIterable, runWithRequestContext } from "./request-context";

/** Per-socket bookkeeping. graphql-ws's `Context` object is the key. */
interface SocketState {
  accepted: boolean;
  closed: boolean;
  /** Ids of this socket's subscriptions counted in the gauge. */
  streams: Set<string>;
}

/**
 * Keeps `graphql_ws_connections` and `graphql_ws_subscriptions` right whatever order
 * graphql-ws calls its hooks in. The pitfalls it covers (graphql-ws 6):
 * - `onComplete` runs for queries and mutations too, and not at all for operations refused by
 *   validation or `onSubscribe`; so a subscription is counted in `onOperation` (only when the
 *   result is a stream) and uncounted only if it was counted.
 * - When a socket drops, graphql-ws calls `return()` on each stream and then `onDisconnect` /
 *   `onClose`; the `onComplete` of those streams may run before or after `onClose`, and not at
 *   all if sending the final message throws. So `onClose` uncounts every stream still counted,
 *   and a later `onComplete` for them finds nothing to uncount.
 * - `onConnect` may resolve after the socket already closed (slow authentication); a
 *   connection accepted after its close is never counted.
 */
export class WsGaugeTracker {
  private readonly sockets = new WeakMap<object, SocketState>();

  constructor(private readonly metrics: Metrics) {}

  /** Call when `onConnect` lets the client in. */
  connectionAccepted(ctx: object): void {
    const s = this.state(ctx);
    if (s.closed || s.accepted) return;
    s.accepted = true;
    this.metrics.wsConnections.inc();
  }

  /** Call from `onOperation`: counts `id` when its result is a stream (a subscription). */
  operationStarted(ctx: object, id: string, result: unknown): void {
    const s = this.state(ctx);
    if (s.closed || s.streams.has(id) || !isAsyncIterable(result)) return;
    s.streams.add(id);
    this.metrics.wsSubscriptions.inc();
  }

  /** Call from `onComplete`. */
  operationCompleted(ctx: object, id: string): void {
    const s = this.sockets.get(ctx);
    if (s?.streams.delete(id)) this.metrics.wsSubscriptions.dec();
  }

  /** Call from `onClose` (runs for every socket, acknowledged or not). */
  socketClosed(ctx: object): void {
    const s = this.state(ctx);
    if (s.closed) return;
    s.closed = true;
    if (s.streams.size > 0) this.metrics.wsSubscriptions.dec(s.streams.size);
    s.streams.clear();
    if (s.accepted) this.metrics.wsConnections.dec();
  }

  private state(ctx: object): SocketState {
    let s = this.sockets.get(ctx);
    if (!s) {
      s = { accepted: false, closed: false, streams: new Set() };
      this.sockets.set(ctx, s);
    }
    return s;
  }
}

export interface WsObservabilityDeps {
  metrics: Metrics;
  log: Logger;
}

/**
 * Returns `options` with observability composed into its hooks (the given hooks still run,
 * and their results are kept):
 * - connection and subscription gauges ({@link WsGaugeTracker});
 * - every operation executes inside `runWithRequestContext({ requestId })`, where the id is the
 *   `requestId` of the operation's context value (built by `options.context`), so services see
 *   it through `currentRequestId()` and the events it causes carry it; a subscription's later
 *   events are resolved in the same context;
 * - queries and mutations are timed into `graphql_request_duration_seconds` and logged, one
 *   line each, like the HTTP path; a subscription logs one line when it starts.
 */
export function withWsObservability<P extends Record<string, unknown> | undefined, E>(
  options: ServerOptions<P, E>,
  deps: WsObservabilityDeps,
): ServerOptions<P, E> {
  const tracker = new WsGaugeTracker(deps.metrics);
  return {
    ...options,
    onConnect: async (ctx) => {
      const verdict = await options.onConnect?.(ctx);
      if (verdict !== false) tracker.connectionAccepted(ctx);
      return verdict;
    },
    onOperation: async (ctx, id, payload, args, result) => {
      const replaced = await options.onOperation?.(ctx, id, payload, args, result);
      tracker.operationStarted(ctx, id, replaced ?? result);
      return replaced;
    },
    onComplete: async (ctx, id, payload) => {
      tracker.operationCompleted(ctx, id);
      await options.onComplete?.(ctx, id, payload);
    },
    onClose: async (ctx, code, reason) => {
      tracker.socketClosed(ctx);
      await options.onClose?.(ctx, code, reason);
    },
    execute: timedExecute(options.execute ?? graphqlExecute, deps),
    subscribe: loggedSubscribe(options.subscribe ?? graphqlSubscribe, deps),
  };
}

type Execute = NonNullable<ServerOptions["execute"]>;
type Subscribe = NonNullable<ServerOptions["subscribe"]>;

/**
 * `execute` run in the operation's request context, timed into `graphql_request_duration_seconds`
 * and logged in one line (`graphql operation`) whatever its outcome.
 */
function timedExecute(execute: Execute, { log, metrics }: WsObservabilityDeps): Execute {
  return (args) => {
    const requestId = requestIdOf(args.contextValue);
    const operationName = operationNameOf(args);
    const run = async () => {
      const startedAt = process.hrtime.bigint();
      let outcome: OperationOutcome = "error";
      let codes: string[] = [];
      try {
        const result = await execute(args);
        const errors = isAsyncIterable(result) ? undefined : result.errors;
        outcome = errors?.length ? "error" : "ok";
        codes = [...new Set((errors ?? []).map(errorCode))];
        return result;
      } catch (err) {
        codes = [errorCode(err)];
        throw err;
      } finally {
        const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
        metrics.observeOperation(operationName, outcome, seconds);
        log.info(
          { requestId, transport: "ws", operationName, durationMs: Math.round(seconds * 1e6) / 1e3, outcome, errorCodes: codes },
          "graphql operation",
        );
      }
    };
    return requestId ? runWithRequestContext({ requestId }, run) : run();
  };
}

/**
 * `subscribe` run in the operation's request context, logged in one line when it starts
 * (`graphql subscription started`); the stream's later events resolve in the same context.
 */
function loggedSubscribe(subscribe: Subscribe, { log }: WsObservabilityDeps): Subscribe {
  return (args) => {
    const requestId = requestIdOf(args.contextValue);
    const operationName = operationNameOf(args);
    const run = async () => {
      const result = await subscribe(args);
      const errors = isAsyncIterable(result) ? undefined : result.errors;
      log.info(
        {
          requestId,
          transport: "ws",
          operationName,
          operationType: "subscription",
          outcome: errors?.length ? "error" : "ok",
          errorCodes: [...new Set((errors ?? []).map(errorCode))],
        },
        "graphql subscription started",
      );
      return requestId && isAsyncIterable(result) ? bindAsyncIterable({ requestId }, result) : result;
    };
    return requestId ? runWithRequestContext({ requestId }, run) : run();
  };
}

function requestIdOf(contextValue: unknown): string | undefined {
  const id = (contextValue as { requestId?: unknown } | null | undefined)?.requestId;
  return typeof id === "string" ? id : undefined;
}

function operationNameOf(args: ExecutionArgs): string | null {
  return args.operationName ?? getOperationAST(args.document, args.operationName)?.name?.value ?? null;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === "object" && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/**
 * The `extensions.code` a client will see for `err`, for log lines: the same precedence as
 * src/graphql/error-format.ts (a domain error's code, else GraphQL's own code, else a bug).
 */
function errorCode(err: unknown): string {
  let e: unknown = err;
  let graphqlCode: string | undefined;
  while (e instanceof GraphQLError) {
    if (typeof e.extensions?.code === "string") graphqlCode ??= e.extensions.code;
    if (!e.originalError) return graphqlCode ?? "GRAPHQL_VALIDATION_FAILED";
    e = e.originalError;
  }
  if (e instanceof DomainError) return e.code;
  return graphqlCode ?? "INTERNAL_SERVER_ERROR";
}
