import { findProviderById } from "../db/repositories/provider.repository";
import {
  findSchedule,
  findSchedulesNeedingExtension,
  setGeneratedUntil,
  upsertSchedule,
} from "../db/repositories/schedule.repository";
import { constraintOutcome } from "../db/pg-error";
import {
  insertSlotsSkippingOverlaps,
  markSlotsKeptBeyondSchedule,
  reviveWithdrawnSlots,
  slotKey,
  withdrawScheduleSlots,
} from "../db/repositories/slot.repository";
import type { ProviderRow, ScheduleRow } from "../db/schema";
import { BadInputError, ConflictError, NotFoundError } from "../domain/errors";
import { parseId } from "../domain/ids";
import { scheduleSlotCountBounds } from "../domain/schedule-bounds";
import { generateScheduleSlots, parseScheduleRules, type DateOverride, type ScheduleRules, type WeeklyWindow } from "../domain/schedule";
import { requireProviderManager, requireViewer } from "./access";
import type { UseCaseDeps } from "./deps";
import type { Viewer } from "../domain/viewer";
import type { ChangeSet } from "./unit-of-work";

export interface SetScheduleInput {
  providerId: string;
  slotMinutes: number;
  bufferMinutes?: number | null;
  minimumNoticeMinutes?: number | null;
  horizonDays?: number | null;
  weekly: WeeklyWindow[];
  overrides?: DateOverride[] | null;
}

/** Most slots one schedule may offer within its horizon (e.g. 30 days of 5-minute slots, 23 h a day); bounds one transaction. */
export const MAX_SCHEDULE_SLOTS = 10_000;

function tooManySlots(count: string): BadInputError {
  return new BadInputError(
    `this schedule would offer ${count} slots within its horizon; at most ${MAX_SCHEDULE_SLOTS} are allowed (use longer slots or a shorter horizon)`,
    "horizonDays",
  );
}

/** Defaults for optional schedule fields. */
export const SCHEDULE_DEFAULTS = { bufferMinutes: 0, minimumNoticeMinutes: 0, horizonDays: 30 } as const;
const DAY_MS = 86_400_000;

/** The rules of a stored schedule, in the provider's zone. */
export function rulesOf(schedule: ScheduleRow, provider: Pick<ProviderRow, "timeZone">): ScheduleRules {
  return {
    timeZone: provider.timeZone,
    slotMinutes: schedule.slotMinutes,
    bufferMinutes: schedule.bufferMinutes,
    minimumNoticeMinutes: schedule.minimumNoticeMinutes,
    horizonDays: schedule.horizonDays,
    weekly: schedule.weekly as WeeklyWindow[],
    overrides: schedule.overrides as DateOverride[],
  };
}

/** What {@link ScheduleService} needs. */
export type ScheduleDeps = UseCaseDeps;

/** Weekly schedules and the slots generated from them. */
export class ScheduleService {
  constructor(private readonly deps: ScheduleDeps) {}

  /**
   * Replaces the provider's schedule and regenerates its future generated slots in one
   * transaction: generated AVAILABLE slots that no longer fit are withdrawn, new ones are
   * inserted, and HELD, BOOKED, BLOCKED and one-off (addAvailability) slots are never
   * overlapped (the exclusion constraint skips overlapping inserts). HELD, BOOKED and BLOCKED
   * schedule slots the new schedule no longer offers stay as they are but are marked to be
   * withdrawn when released (cancel, reject, expiry, reschedule away; an unblock is refused),
   * so they never go back on sale.
   *
   * @throws UnauthenticatedError; NotFoundError for an unknown provider; ForbiddenError unless the caller owns it
   * @throws BadInputError for invalid rules (see parseScheduleRules)
   * @throws ConflictError `SLOT_OVERLAP` when a concurrent change (e.g. addAvailability) took the
   *   time of a withdrawn slot this schedule brings back; nothing is changed, and a retry
   *   leaves that slot withdrawn
   */
  async setSchedule(viewer: Viewer | null, input: SetScheduleInput): Promise<ScheduleRow> {
    const v = requireViewer(viewer);
    const providerId = parseId(input.providerId, "providerId");
    const provider = await findProviderById(this.deps.db, providerId);
    if (!provider) throw new NotFoundError("Provider", providerId);
    requireProviderManager(v, provider);
    const rules = parseScheduleRules({
      timeZone: provider.timeZone,
      slotMinutes: input.slotMinutes,
      bufferMinutes: input.bufferMinutes ?? SCHEDULE_DEFAULTS.bufferMinutes,
      minimumNoticeMinutes: input.minimumNoticeMinutes ?? SCHEDULE_DEFAULTS.minimumNoticeMinutes,
      horizonDays: input.horizonDays ?? SCHEDULE_DEFAULTS.horizonDays,
      weekly: input.weekly,
      overrides: input.overrides ?? [],
    });
    const now = this.deps.clock.now();
    const until = new Date(now.getTime() + rules.horizonDays * DAY_MS);
    // Counted before anything is generated: an oversized schedule is refused by arithmetic, without
    // the work (and the event-loop time) of laying out every one of its slots first.
    const bounds = scheduleSlotCountBounds(rules, now, until);
    if (bounds.atLeast > MAX_SCHEDULE_SLOTS) throw tooManySlots(`at least ${bounds.atLeast}`);
    // Past that refusal, generation is bounded by `bounds.atMost`: the limit plus about four days of slots.
    const desired = generateScheduleSlots(rules, now, until).filter((s) => s.startsAt.getTime() > now.getTime());
    if (desired.length > MAX_SCHEDULE_SLOTS) throw tooManySlots(String(desired.length));
    try {
      return await this.deps.uow.run(now, (changes) => this.saveAndRegenerate(changes, providerId, rules, desired, until));
    } catch (err) {
      // reviveWithdrawnSlots checks for occupied time first, but a slot inserted concurrently and
      // not yet committed is invisible to that check; the exclusion constraint catches it.
      if (constraintOutcome(err) === "slot-overlap") {
        throw new ConflictError("SLOT_OVERLAP", "Another change took some of this schedule's times while it was being saved; nothing was changed, retry");
      }
      throw err;
    }
  }

  /** The schedule's transaction: save it, then withdraw, revive and insert slots to match it. */
  private async saveAndRegenerate(
    changes: ChangeSet,
    providerId: string,
    rules: ScheduleRules,
    desired: readonly { startsAt: Date; endsAt: Date }[],
    until: Date,
  ): Promise<ScheduleRow> {
    const { tx, at: now } = changes;
    // Locking the schedule row (when there is one) serialises setSchedule and horizon extension.
    await findSchedule(tx, providerId, { forUpdate: true });
    const saved = await upsertSchedule(tx, providerId, {
      slotMinutes: rules.slotMinutes,
      bufferMinutes: rules.bufferMinutes,
      minimumNoticeMinutes: rules.minimumNoticeMinutes,
      horizonDays: rules.horizonDays,
      weekly: rules.weekly,
      overrides: rules.overrides,
      generatedUntil: until,
      updatedAt: now,
    });
    const keys = new Set(desired.map(slotKey));
    const region = { providerId, from: now, keep: keys, now };
    // Marked before and after the withdrawal: a slot released in between is withdrawn there,
    // one claimed in between is marked by the second pass.
    await markSlotsKeptBeyondSchedule(tx, region);
    const withdrawn = await withdrawScheduleSlots(tx, region);
    await markSlotsKeptBeyondSchedule(tx, region);
    const revived = await reviveWithdrawnSlots(tx, { providerId, from: now, keys, now });
    const inserted = await insertSlotsSkippingOverlaps(
      tx,
      desired.map((s) => ({ providerId, startsAt: s.startsAt, endsAt: s.endsAt, source: "SCHEDULE" as const, updatedAt: now })),
    );
    changes.slotChanged(...withdrawn, ...revived, ...inserted);
    return saved;
  }

  /** A provider's schedule, or null when it has none. */
  async getSchedule(providerId: string): Promise<ScheduleRow | null> {
    return (await findSchedule(this.deps.db, providerId)) ?? null;
  }

  /**
   * Keeps slots generated `horizonDays` ahead as time passes: for up to `limit` schedules
   * whose generated range ends more than a day short of the horizon, generates the missing
   * days. Each schedule is extended under its row lock and re-checked there, so several
   * instances may run this at once without doing the work twice.
   *
   * @returns how many slots were added
   */
  async extendHorizons(limit = 100): Promise<number> {
    const now = this.deps.clock.now();
    let added = 0;
    const due = await findSchedulesNeedingExtension(this.deps.db, now, limit);
    for (const candidate of due) {
      const target = new Date(now.getTime() + candidate.horizonDays * DAY_MS);
      added += await this.deps.uow.run(now, async (changes) => {
        const { tx } = changes;
        const schedule = await findSchedule(tx, candidate.providerId, { forUpdate: true });
        const provider = await findProviderById(tx, candidate.providerId);
        if (!schedule || !provider || schedule.generatedUntil.getTime() >= target.getTime() - DAY_MS) return 0;
        const from = new Date(Math.max(schedule.generatedUntil.getTime(), now.getTime()));
        const slots = generateScheduleSlots(rulesOf(schedule, provider), from, target);
        const rows = await insertSlotsSkippingOverlaps(
          tx,
          slots.map((s) => ({ providerId: provider.id, startsAt: s.startsAt, endsAt: s.endsAt, source: "SCHEDULE" as const, updatedAt: now })),
        );
        await setGeneratedUntil(tx, provider.id, target);
        changes.slotChanged(...rows);
        return rows.length;
      });
    }
    return added;
  }
}
