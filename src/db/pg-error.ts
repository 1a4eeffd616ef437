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

/** True when `err` violated the named constraint (unique, exclusion or check). */
export function isConstraintViolation(err: unknown, constraint: string): boolean {
  return pgErrorInfo(err).constraint === constraint;
}
