import { GraphQLError, type GraphQLFormattedError } from "graphql";
import pino from "pino";
import {
  BadInputError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
  UnauthenticatedError,
  type DomainError,
} from "../../src/domain/errors";
import { formatError, toGraphQLError } from "../../src/graphql/error-format";

const log = pino({ level: "silent" });
const path = ["createBooking"];
const locations = [{ line: 1, column: 12 }];

/** What graphql-js / Apollo hand to formatError for an error thrown in a resolver. */
function fromResolver(original: Error): { formatted: GraphQLFormattedError; error: GraphQLError } {
  const error = new GraphQLError(original.message, { path, originalError: original });
  return { formatted: { message: original.message, path, locations }, error };
}

describe("formatError: domain errors", () => {
  test.each<[DomainError, string, string | undefined]>([
    [new UnauthenticatedError(), "UNAUTHENTICATED", undefined],
    [new ForbiddenError(), "FORBIDDEN", undefined],
    [new NotFoundError("Booking", "b1"), "NOT_FOUND", undefined],
    [new ConflictError("SLOT_UNAVAILABLE", "taken"), "CONFLICT", "SLOT_UNAVAILABLE"],
    [new ConflictError("INVALID_TRANSITION", "nope"), "CONFLICT", "INVALID_TRANSITION"],
    [new ConflictError("HOLD_EXPIRED", "late"), "CONFLICT", "HOLD_EXPIRED"],
  ])("%p -> code %s, reason %s", (err, code, reason) => {
    const { formatted, error } = fromResolver(err);
    const out = formatError(formatted, error, { maskInternal: true, log });
    expect(out.message).toBe(err.message);
    expect(out.path).toEqual(path);
    expect(out.locations).toEqual(locations);
    expect(out.extensions).toEqual(reason ? { code, reason } : { code });
  });

  test("BadInputError carries the offending field", () => {
    const { formatted, error } = fromResolver(new BadInputError("slotId is not a valid id", "slotId"));
    expect(formatError(formatted, error, { maskInternal: true, log }).extensions).toEqual({ code: "BAD_USER_INPUT", field: "slotId" });
  });

  test("a domain error wrapped in several GraphQLErrors is still found", () => {
    const inner = new GraphQLError("x", { originalError: new ConflictError("SLOT_OVERLAP", "overlap") });
    const outer = new GraphQLError("x", { originalError: inner });
    const out = formatError({ message: "x" }, outer, { maskInternal: true, log });
    expect(out.extensions).toEqual({ code: "CONFLICT", reason: "SLOT_OVERLAP" });
    expect(out.message).toBe("overlap");
  });

  test("a domain error passed directly (not wrapped) is mapped too", () => {
    expect(formatError({ message: "m" }, new ForbiddenError("no"), { maskInternal: false, log }).extensions).toEqual({ code: "FORBIDDEN" });
  });
});

describe("formatError: unexpected errors", () => {
  const boom = () => new Error("connection to 10.0.0.5 refused: password for user slotwise");

  test("masked in production: generic message, INTERNAL_SERVER_ERROR, no stack", () => {
    const { formatted, error } = fromResolver(boom());
    const out = formatError(formatted, error, { maskInternal: true, log });
    expect(out.message).toBe("Internal server error");
    expect(out.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
    expect(JSON.stringify(out)).not.toContain("10.0.0.5");
    expect(out.path).toEqual(path);
  });

  test("not masked outside production: the real message and a stack trace", () => {
    const { formatted, error } = fromResolver(boom());
    const out = formatError(formatted, error, { maskInternal: false, log });
    expect(out.message).toBe(boom().message);
    expect(out.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    expect(Array.isArray(out.extensions?.stacktrace)).toBe(true);
  });

  test("the full error is logged", () => {
    const logged: unknown[] = [];
    const spyLog = pino({ level: "error" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const { formatted, error } = fromResolver(boom());
    formatError(formatted, error, { maskInternal: true, log: spyLog });
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged[0])).toContain("10.0.0.5");
  });
});

describe("formatError: GraphQL's own errors", () => {
  test("a validation error without originalError keeps its message and gets a code", () => {
    const message = 'Cannot query field "nope" on type "Query".';
    const error = new GraphQLError(message);
    const out = formatError({ message, locations }, error, { maskInternal: true, log });
    expect(out.message).toBe(message);
    expect(out.locations).toEqual(locations);
    expect(out.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  test("an existing Apollo code is kept", () => {
    const message = "Syntax Error: Expected Name, found <EOF>.";
    const out = formatError({ message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }, new GraphQLError(message), { maskInternal: true, log });
    expect(out).toEqual({ message, extensions: { code: "GRAPHQL_PARSE_FAILED" } });
  });

  test("a variable-coercion error Apollo coded BAD_USER_INPUT keeps its message, even with a TypeError behind it", () => {
    const message = 'Variable "$id" got invalid value "x"; ID cannot represent value';
    const error = new GraphQLError(message, { originalError: new TypeError("ID cannot represent value"), extensions: { code: "BAD_USER_INPUT" } });
    const out = formatError({ message, extensions: { code: "BAD_USER_INPUT" } }, error, { maskInternal: true, log });
    expect(out.message).toBe(message);
    expect(out.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("toGraphQLError", () => {
  test("carries code, reason and the HTTP status", () => {
    const e = toGraphQLError(new ConflictError("EMAIL_TAKEN", "taken"), 409);
    expect(e.message).toBe("taken");
    expect(e.extensions).toEqual({ code: "CONFLICT", reason: "EMAIL_TAKEN", http: { status: 409 } });
    expect(toGraphQLError(new UnauthenticatedError()).extensions).toEqual({ code: "UNAUTHENTICATED" });
  });
});

describe("formatError: the database unreachable or dropping the connection", () => {
  /** What drizzle 0.45 throws: a DrizzleQueryError whose `cause` is the driver's error. */
  const fromDriver = (cause: Record<string, unknown>) =>
    Object.assign(new Error("Failed query: insert into bookings ..."), { cause: Object.assign(new Error(String(cause.message ?? "driver")), cause) });

  test.each([
    ["pg_terminate_backend (57P01)", { code: "57P01", message: "terminating connection due to administrator command" }],
    ["a restarting server (57P03)", { code: "57P03", message: "the database system is starting up" }],
    ["postgres.js lost the connection", { code: "CONNECTION_CLOSED", message: "write CONNECTION_CLOSED 127.0.0.1:5432" }],
    ["nothing listens (ECONNREFUSED)", { code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:5432" }],
  ])("%s -> SERVICE_UNAVAILABLE, retryable, not masked as INTERNAL even in production", (_label, cause) => {
    const { formatted, error } = fromResolver(fromDriver(cause));
    const out = formatError(formatted, error, { maskInternal: true, log });
    expect(out.extensions).toEqual({ code: "SERVICE_UNAVAILABLE", retryable: true });
    expect(out.message).toMatch(/retry/);
    expect(JSON.stringify(out)).not.toContain("127.0.0.1");
    expect(out.path).toEqual(path);
  });

  test("a constraint violation is not mistaken for an outage", () => {
    const { formatted, error } = fromResolver(fromDriver({ code: "23505", message: "duplicate key" }));
    expect(formatError(formatted, error, { maskInternal: true, log }).extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
  });

  test("raised outside resolvers (the token check), it is a 503 with Retry-After", () => {
    const err = toGraphQLError(new ServiceUnavailableError());
    expect(err.extensions).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true, http: { status: 503 } });
    expect((err.extensions.http as { headers: Map<string, string> }).headers.get("retry-after")).toBe("1");
  });
});
