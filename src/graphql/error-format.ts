import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import type { ApolloServerPlugin } from "@apollo/server";
import { isDatabaseUnavailable } from "../db/pg-error";
import { DomainError, ServiceUnavailableError } from "../domain/errors";

/**
 * The one place domain errors become GraphQL errors. Used by Apollo's `formatError`
 * (HTTP) and by graphql-ws's `onNext`/`onError` (WebSocket), so both paths answer alike.
 *
 * - {@link DomainError}: its `code` becomes `extensions.code`, plus `extensions.reason`
 *   and any details (e.g. `field`).
 * - GraphQL's own errors (syntax, validation, variable coercion) keep their message;
 *   Apollo's code is kept, or `GRAPHQL_VALIDATION_FAILED` on the WebSocket path.
 * - The database unreachable or dropping the connection (a failover, a restart,
 *   `pg_terminate_backend`, see {@link isDatabaseUnavailable}): `SERVICE_UNAVAILABLE` with
 *   `extensions.retryable: true`, answered with HTTP 503 and `Retry-After: 1` on HTTP
 *   ({@link serviceUnavailablePlugin}). Not a bug and not the client's fault: the same request
 *   may succeed when sent again; a `createBooking` retried with its idempotency key never
 *   books twice, whether or not the lost attempt committed.
 * - Anything else is a bug: logged in full and answered as `INTERNAL_SERVER_ERROR`,
 *   with the message masked when `maskInternal` (production).
 * - When `maskInternal` (production, where introspection is off), graphql-js's "Did you mean …?"
 *   suggestions are cut from every message: they would spell out field, argument, type and enum
 *   names that introspection hides. This covers validation and variable coercion alike, on both
 *   transports (Apollo's `hideSchemaDetailsFromClientErrors` only reaches validation over HTTP).
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  opts: { maskInternal: boolean; log: Logger },
): GraphQLFormattedError {
  if (opts.maskInternal) formatted = { ...formatted, message: withoutSuggestions(formatted.message) };
  let original = findOriginalError(error);
  if (original && !(original instanceof DomainError) && isDatabaseUnavailable(original)) {
    opts.log.warn({ err: original, path: formatted.path }, "database unavailable");
    original = new ServiceUnavailableError();
  }
  if (original instanceof DomainError) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: original.code, ...(original.reason ? { reason: original.reason } : {}), ...original.details },
    };
  }
  if (!original) {
    // Only GraphQL's own errors are behind this one: the request itself was bad. graphql-js
    // throws some of them (e.g. "Too many errors processing variables") where Apollo expects
    // none, and Apollo then labels them INTERNAL_SERVER_ERROR; they are the client's input.
    const apolloCode = formatted.extensions?.code;
    const code = apolloCode === undefined ? "GRAPHQL_VALIDATION_FAILED" : apolloCode === "INTERNAL_SERVER_ERROR" ? "BAD_USER_INPUT" : apolloCode;
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: { ...extensions, code } };
  }
  opts.log.error({ err: original, path: formatted.path }, "unexpected error in resolver");
  return {
    message: opts.maskInternal ? "Internal server error" : original.message,
    locations: formatted.locations,
    path: formatted.path,
    extensions: opts.maskInternal
      ? { code: "INTERNAL_SERVER_ERROR" }
      : { code: "INTERNAL_SERVER_ERROR", stacktrace: original.stack?.split("\n") },
  };
}

/** graphql-js's `didYouMean` text (" Did you mean "a", "b", or "c"?"); names cannot contain "?". */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, "");
}

/**
 * The non-GraphQL error behind a GraphQLError, if any. Variable-coercion errors thrown by
 * scalars arrive as GraphQLErrors whose `originalError` is a plain TypeError; Apollo has
 * already coded those `BAD_USER_INPUT`, so an existing Apollo code wins over "unexpected".
 */
function findOriginalError(error: unknown): Error | undefined {
  let e: unknown = error;
  while (e instanceof GraphQLError) {
    if (!e.originalError) return undefined;
    if (e.extensions?.code === "BAD_USER_INPUT" && !(e.originalError instanceof DomainError)) return undefined;
    e = e.originalError;
  }
  return e instanceof Error ? e : undefined;
}

/**
 * A GraphQLError for a domain error raised outside resolvers (e.g. while building the
 * context from a bad token), with the HTTP status Apollo should answer with.
 */
export function toGraphQLError(err: DomainError, httpStatus?: number): GraphQLError {
  const http =
    err instanceof ServiceUnavailableError
      ? { status: SERVICE_UNAVAILABLE_HTTP.status, headers: new Map([["retry-after", String(SERVICE_UNAVAILABLE_HTTP.retryAfterSeconds)]]) }
      : httpStatus
        ? { status: httpStatus }
        : undefined;
  return new GraphQLError(err.message, {
    extensions: { code: err.code, ...(err.reason ? { reason: err.reason } : {}), ...err.details, ...(http ? { http } : {}) },
  });
}

/** HTTP status and `Retry-After` (seconds) of a response with a `SERVICE_UNAVAILABLE` error. */
export const SERVICE_UNAVAILABLE_HTTP = { status: 503, retryAfterSeconds: 1 } as const;

/**
 * Answers HTTP 503 with `Retry-After` when an error of the response is `SERVICE_UNAVAILABLE`
 * (see {@link formatError}), so HTTP clients and proxies that retry on 503 do so.
 */
export function serviceUnavailablePlugin<T extends object>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          const errors = response.body.kind === "single" ? response.body.singleResult.errors : undefined;
          if (!errors?.some((e) => e.extensions?.code === "SERVICE_UNAVAILABLE")) return;
          response.http.status = SERVICE_UNAVAILABLE_HTTP.status;
          response.http.headers.set("retry-after", String(SERVICE_UNAVAILABLE_HTTP.retryAfterSeconds));
        },
      };
    },
  };
}
