/**
 * Domain errors. Services throw these; exactly one place (`src/graphql/error-format.ts`)
 * turns them into GraphQL errors with `extensions.code` (and `extensions.reason`).
 * Anything else that escapes a resolver is treated as an internal error and masked.
 */

/** Public error codes, as listed in DESIGN.md "Errors". */
export type ErrorCode = "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_USER_INPUT" | "CONFLICT" | "RATE_LIMITED" | "SERVICE_UNAVAILABLE";

/** Finer reasons for CONFLICT (and a few BAD_USER_INPUT cases), exposed as `extensions.reason`. */
export type ErrorReason =
  | "SLOT_UNAVAILABLE"
  | "INVALID_TRANSITION"
  | "SLOT_OVERLAP"
  | "EMAIL_TAKEN"
  | "ACCOUNT_EXISTS"
  | "IDEMPOTENCY_KEY_REUSED"
  | "HOLD_EXPIRED"
  | "SESSION_REVOKED"
  | "REFRESH_TOKEN_REUSED"
  | "WEBHOOK_ENDPOINT_DISABLED"
  | "WEBHOOK_ENDPOINT_LIMIT";

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  readonly reason?: ErrorReason;
  /** Extra machine-readable detail, e.g. the offending field. */
  readonly details?: Record<string, unknown>;

  constructor(message: string, opts: { reason?: ErrorReason; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = new.target.name;
    this.reason = opts.reason;
    this.details = opts.details;
  }
}

export class UnauthenticatedError extends DomainError {
  readonly code = "UNAUTHENTICATED" as const;
  constructor(message = "Authentication required", reason?: ErrorReason) {
    super(message, reason ? { reason } : {});
  }
}

/** Too many attempts (e.g. failed logins); `retryAfterSeconds` says when to try again. */
export class RateLimitedError extends DomainError {
  readonly code = "RATE_LIMITED" as const;
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { details: { retryAfterSeconds } });
  }
}

export class ForbiddenError extends DomainError {
  readonly code = "FORBIDDEN" as const;
  constructor(message = "Not allowed") {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  readonly code = "NOT_FOUND" as const;
  constructor(entity: string, id?: string) {
    super(id ? `${entity} ${id} not found` : `${entity} not found`);
  }
}

export class BadInputError extends DomainError {
  readonly code = "BAD_USER_INPUT" as const;
  constructor(message: string, field?: string) {
    super(message, field ? { details: { field } } : {});
  }
}

export class ConflictError extends DomainError {
  readonly code = "CONFLICT" as const;
  constructor(reason: ErrorReason, message: string) {
    super(message, { reason });
  }
}

/**
 * A part the request needs (the database) is unreachable for now: nothing the client sent is
 * wrong, and the same request may succeed when sent again. `details.retryable` is always true;
 * a retry of `createBooking` with the same idempotency key never books twice.
 */
export class ServiceUnavailableError extends DomainError {
  readonly code = "SERVICE_UNAVAILABLE" as const;
  constructor(message = "The database is unavailable right now; retry the request shortly (with the same idempotency key)") {
    super(message, { details: { retryable: true } });
  }
}
