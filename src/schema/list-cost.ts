import type { ComplexityEstimator, ComplexityEstimatorArgs } from "graphql-query-complexity";
import { DEFAULT_PAGE_SIZE, DEFAULT_SLOT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SLOT_PAGE_SIZE, MAX_SLOTS_PER_CALL } from "../domain/page-limits";
import { SCHEDULE_LIMITS } from "../domain/schedule";
import { MAX_WEBHOOK_ENDPOINTS_PER_OWNER } from "../domain/webhooks";

// The query cost model, used by the `complexity` options of the type-graphql decorators in
// src/schema and src/resolvers, and applied to every operation by the limits in
// src/graphql/query-limits.ts. Every field costs 1 plus what is selected under it; a list
// multiplies what is selected under it by how many items it returns (or is expected to return).

/**
 * The most items each list without `first` can return: a list is costed by its real bound
 * (what can be stored), never by a typical size, so that an operation within the cost limit
 * cannot return far more than it was costed at (issue 10: 30 aliases of a schedule with 366
 * overrides x 50 windows answered 22 MB).
 */
export const LIST_BOUNDS = {
  /** Schedule.weekly. */
  weeklyWindows: SCHEDULE_LIMITS.maxWeeklyWindows,
  /** Schedule.overrides. */
  dateOverrides: SCHEDULE_LIMITS.maxOverrides,
  /**
   * DateOverride.windows, per override: the cap is on all overrides together, and the field
   * only appears under Schedule.overrides, so (overrides x this) is exactly that cap.
   */
  windowsPerOverride: SCHEDULE_LIMITS.maxOverrideWindows / SCHEDULE_LIMITS.maxOverrides,
  /**
   * Booking.history: created, then accepted/rejected, then maybe cancelled. Each reschedule adds
   * one, so this is an expected size, not a bound.
   */
  bookingHistory: 3,
  /** webhookEndpoints: what one owner may create (an admin's list of all may be longer). */
  webhookEndpoints: MAX_WEBHOOK_ENDPOINTS_PER_OWNER,
} as const;

/** The page size a connection will return: `first` as the resolver accepts it, default 20. */
export function estimatedPageSize(first: unknown): number {
  if (typeof first !== "number" || !Number.isInteger(first)) return DEFAULT_PAGE_SIZE;
  // Sizes the resolver refuses are estimated at the nearest size it accepts.
  return Math.min(Math.max(first, 1), MAX_PAGE_SIZE);
}

/** Complexity of a `first`-paginated connection field: its page size times its selection. */
export const connectionComplexity: ComplexityEstimator = ({ args, childComplexity }: ComplexityEstimatorArgs) =>
  1 + estimatedPageSize(args.first) * childComplexity;

/** Complexity of `availableSlots`: at most `first` slots (default 200, at most 1000) times the selection. */
export const slotPageComplexity: ComplexityEstimator = ({ args, childComplexity }: ComplexityEstimatorArgs) => {
  const first = args.first;
  const size = typeof first === "number" && Number.isInteger(first) ? Math.min(Math.max(first, 1), MAX_SLOT_PAGE_SIZE) : DEFAULT_SLOT_PAGE_SIZE;
  return 1 + size * childComplexity;
};

function instantOf(value: unknown): number {
  return value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : Number.NaN;
}

/**
 * Complexity of `addAvailability`: the slots its window splits into ((endsAt - startsAt) /
 * slotMinutes, which the mutation returns), at most MAX_SLOTS_PER_CALL, times the selection.
 * A window the mutation refuses costs one slot.
 */
export const addAvailabilityComplexity: ComplexityEstimator = ({ args, childComplexity }: ComplexityEstimatorArgs) => {
  const input = (args.input ?? {}) as { startsAt?: unknown; endsAt?: unknown; slotMinutes?: unknown };
  const minutes = typeof input.slotMinutes === "number" && input.slotMinutes > 0 ? input.slotMinutes : Number.NaN;
  const count = Math.ceil((instantOf(input.endsAt) - instantOf(input.startsAt)) / (minutes * 60_000));
  const slots = Number.isFinite(count) && count > 0 ? Math.min(count, MAX_SLOTS_PER_CALL) : 1;
  return 1 + slots * childComplexity;
};

/** Complexity of a list field that holds at most `maxItems` items. */
export function listComplexity(maxItems: number): ComplexityEstimator {
  return ({ childComplexity }: ComplexityEstimatorArgs) => 1 + maxItems * childComplexity;
}
