/** SQLSTATE codes Slotwise reacts to (PostgreSQL Appendix A, "Error Codes"). */
export const PG_UNIQUE_VIOLATION = "23505";
export const PG_EXCLUSION_VIOLATION = "23P01";
export const PG_CHECK_VIOLATION = "23514";

/**
 * Extracts SQLSTATE and constraint name from a driver error. drizzle 0.45 wraps
 * driver errors in `DrizzleQueryError` (the original is `cause`); postgres.js names the
 * constraint `constraint_name`, PGlite `constraint`.
 */
export function pgErrorInfo(err: unknown): { code?: string; constraint?: string } {
  let e: unknown = err;
  for (let depth = 0; depth < 3 && e && typeof e === "object"; depth++) {
    const o = e as { code?: unknown; constraint_name?: unknown; constraint?: unknown; cause?: unknown };
    if (typeof o.code === "string" && /^[0-9A-Z]{5}$/.test(o.code)) {
      const constraint = typeof o.constraint_name === "string" ? o.constraint_name : typeof o.constraint === "string" ? o.constraint : undefined;
      return { code: o.code, constraint };
    }
    e = o.cause;
  }
  return {};
}

/**
 * The constraints whose violation is an expected outcome, each under the domain name of that
 * outcome: the one table that knows constraint names (drizzle/ migrations), so no layer above
 * `src/db` matches them as strings.
 */
const CONSTRAINT_OUTCOMES = {
  /** Partial unique index: at most one active (PENDING or CONFIRMED) booking per slot. */
  bookings_one_active_per_slot: "slot-taken",
  /** Partial unique index: one booking per customer and idempotency key. */
  bookings_customer_idempotency_key: "idempotency-key-taken",
  /** Exclusion constraint: a provider's live slots never overlap. */
  slots_no_overlap: "slot-overlap",
  /** Unique constraint on the normalised email. */
  users_email_key: "email-taken",
} as const;

/** An expected outcome that PostgreSQL decides with a constraint. */
export type ConstraintOutcome = (typeof CONSTRAINT_OUTCOMES)[keyof typeof CONSTRAINT_OUTCOMES];

/** The expected outcome `err` stands for, or undefined when it is not a known constraint's violation. */
export function constraintOutcome(err: unknown): ConstraintOutcome | undefined {
  const { constraint } = pgErrorInfo(err);
  return constraint !== undefined && Object.hasOwn(CONSTRAINT_OUTCOMES, constraint)
    ? CONSTRAINT_OUTCOMES[constraint as keyof typeof CONSTRAINT_OUTCOMES]
    : undefined;
}

/**
 * Awaits `statement`; when it fails with one of the `expected` outcomes, returns that outcome
 * as `{ kind }` instead of throwing. Inside a transaction the failed statement still aborts it:
 * the caller must end the transaction (throw) after such an outcome.
 *
 * @throws whatever `statement` throws for any other reason
 */
export async function expectOutcomes<T, K extends ConstraintOutcome>(statement: Promise<T>, expected: readonly K[]): Promise<T | { kind: K }> {
  try {
    return await statement;
  } catch (err) {
    const outcome = constraintOutcome(err);
    if (outcome !== undefined && (expected as readonly ConstraintOutcome[]).includes(outcome)) return { kind: outcome as K };
    throw err;
  }
}

/**
 * SQLSTATEs that mean the server, not the statement, failed (PostgreSQL Appendix A): class 08
 * "connection exception", 57P01-57P03 (shut down, crashed, not yet accepting connections) and
 * 53300 (too many connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
/**
 * postgres.js's own codes for a connection lost or never made (its README, "Errors"), and the
 * Node.js socket errors it passes on.
 */
const UNAVAILABLE_DRIVER_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "QUEUE_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/**
 * True when `err` (or its cause, through drizzle's `DrizzleQueryError`) says the database could
 * not be reached or dropped the connection: a failover, a restart, `pg_terminate_backend`, a
 * proxy reset. The statement may or may not have committed, so the request is worth retrying
 * (with its idempotency key), unlike a constraint violation.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === "object"; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (UNAVAILABLE_DRIVER_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
