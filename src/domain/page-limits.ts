/**
 * How much one call may return or create. These are API rules, not storage details: the data
 * layer and the services validate against them, and the query cost model (`src/schema/list-cost.ts`)
 * prices lists by them, so they live below both.
 */

/** Connection page size (`first`) when none is asked for. */
export const DEFAULT_PAGE_SIZE = 20;
/** Largest connection page size (`first`). */
export const MAX_PAGE_SIZE = 100;

/** `availableSlots` returns this many slots unless `first` asks otherwise. */
export const DEFAULT_SLOT_PAGE_SIZE = 200;
/** Most slots one `availableSlots` call returns. */
export const MAX_SLOT_PAGE_SIZE = 1_000;

/** Most slots one `addAvailability` call may create (one slot a minute for ~2 weeks of 8 h days). */
export const MAX_SLOTS_PER_CALL = 5_000;
