import type { Page } from "../db/cursor";
import { findProviderById, insertProvider, listProviders } from "../db/repositories/provider.repository";
import { findSchedule } from "../db/repositories/schedule.repository";
import { insertSlots, listAvailableSlots } from "../db/repositories/slot.repository";
import type { ProviderRow, SlotRow } from "../db/schema";
import { BadInputError, ConflictError, NotFoundError } from "../domain/errors";
import { parseId } from "../domain/ids";
import { MAX_SLOTS_PER_CALL } from "../domain/page-limits";
import { bookableAfter, isIanaZoneName } from "../domain/schedule";
import { storableText } from "../domain/text";
import { requireProviderManager, requireRole, requireViewer } from "./access";
import type { UseCaseDeps } from "./deps";
import { decodeCursor, parsePageSize, parseSlotPageSize } from "./page-input";
import type { Viewer } from "../domain/viewer";

export interface CreateProviderInput {
  name: string;
  /** IANA zone name, e.g. `Europe/Berlin`. */
  timeZone: string;
  /** Default true: bookings wait for the owner to accept. */
  requiresConfirmation?: boolean | null;
}

export interface AddAvailabilityInput {
  providerId: string;
  /** Window start, an instant (UTC). */
  startsAt: Date;
  /** Window end, exclusive. */
  endsAt: Date;
  /** Slot length in minutes; must divide the window exactly. */
  slotMinutes: number;
}

export { MAX_SLOTS_PER_CALL };
/** Longest `availableSlots` window, in days. */
export const MAX_SLOT_QUERY_DAYS = 93;

const MINUTE_MS = 60_000;

/**
 * Splits [startsAt, endsAt) into back-to-back slots of `slotMinutes`.
 * @throws BadInputError when the window is empty or reversed, the length is not a
 *   positive whole number of minutes dividing the window, or the window is off the minute grid
 */
export function splitWindow(startsAt: Date, endsAt: Date, slotMinutes: number): { startsAt: Date; endsAt: Date }[] {
  if (!Number.isInteger(slotMinutes) || slotMinutes <= 0) throw new BadInputError("slotMinutes must be a positive whole number", "slotMinutes");
  if (slotMinutes > 24 * 60) throw new BadInputError("slotMinutes must be at most 1440 (one day)", "slotMinutes");
  const start = startsAt.getTime();
  const end = endsAt.getTime();
  if (end <= start) throw new BadInputError("endsAt must be after startsAt", "endsAt");
  if (start % MINUTE_MS !== 0 || end % MINUTE_MS !== 0) throw new BadInputError("startsAt and endsAt must be whole minutes", "startsAt");
  const slotMs = slotMinutes * MINUTE_MS;
  if ((end - start) % slotMs !== 0) throw new BadInputError("slotMinutes must divide the window exactly", "slotMinutes");
  const count = (end - start) / slotMs;
  if (count > MAX_SLOTS_PER_CALL) throw new BadInputError(`a window may hold at most ${MAX_SLOTS_PER_CALL} slots`, "endsAt");
  return Array.from({ length: count }, (_, i) => ({ startsAt: new Date(start + i * slotMs), endsAt: new Date(start + (i + 1) * slotMs) }));
}

/** What {@link ProviderService} needs. */
export type ProviderDeps = UseCaseDeps;

/** Providers and their one-off availability. */
export class ProviderService {
  constructor(private readonly deps: ProviderDeps) {}

  /**
   * Creates a provider owned by the caller.
   * @throws UnauthenticatedError / ForbiddenError unless the caller is a PROVIDER or ADMIN
   * @throws BadInputError for an empty name or an unknown IANA time zone
   */
  async createProvider(viewer: Viewer | null, input: CreateProviderInput): Promise<ProviderRow> {
    const v = requireRole(viewer, ["PROVIDER", "ADMIN"]);
    const name = storableText(input.name, "name").trim();
    if (name.length === 0 || name.length > 200) throw new BadInputError("name must be 1 to 200 characters", "name");
    if (!isIanaZoneName(input.timeZone)) throw new BadInputError(`Unknown IANA time zone: ${input.timeZone}`, "timeZone");
    return insertProvider(this.deps.db, {
      ownerId: v.userId,
      name,
      timeZone: input.timeZone,
      requiresConfirmation: input.requiresConfirmation ?? true,
      createdAt: this.deps.clock.now(),
    });
  }

  /** A provider by id (public); null when unknown. @throws BadInputError for a malformed id */
  async getProvider(id: string): Promise<ProviderRow | null> {
    return (await findProviderById(this.deps.db, parseId(id))) ?? null;
  }

  /** Providers, oldest first. @throws BadInputError for a bad `first` or cursor */
  async listProviders(first: number | null | undefined, after: string | null | undefined): Promise<Page<ProviderRow>> {
    const limit = parsePageSize(first);
    return listProviders(this.deps.db, { limit, after: after ? decodeCursor(after) : undefined });
  }

  /**
   * Publishes one window of availability as back-to-back slots.
   * @throws NotFoundError for an unknown provider; ForbiddenError unless the caller owns it
   * @throws BadInputError for a bad window (see {@link splitWindow}) or one starting in the past
   * @throws ConflictError `SLOT_OVERLAP` when a new slot overlaps an existing one (none are created)
   */
  async addAvailability(viewer: Viewer | null, input: AddAvailabilityInput): Promise<SlotRow[]> {
    const v = requireViewer(viewer);
    const providerId = parseId(input.providerId, "providerId");
    const windows = splitWindow(input.startsAt, input.endsAt, input.slotMinutes);
    const provider = await findProviderById(this.deps.db, providerId);
    if (!provider) throw new NotFoundError("Provider", providerId);
    requireProviderManager(v, provider);
    const now = this.deps.clock.now();
    if (input.startsAt.getTime() <= now.getTime()) throw new BadInputError("startsAt must be in the future", "startsAt");
    return this.deps.uow.run(now, async (changes) => {
      const inserted = await insertSlots(changes.tx, windows.map((w) => ({ providerId, startsAt: w.startsAt, endsAt: w.endsAt, updatedAt: now })));
      if (inserted.kind === "slot-overlap") throw new ConflictError("SLOT_OVERLAP", "The window overlaps existing slots of this provider");
      changes.slotChanged(...inserted.slots);
      return inserted.slots;
    });
  }

  /**
   * Bookable slots of a provider starting in [from, to), soonest first, at most `first` of them
   * (see {@link parseSlotPageSize}); past slots are never bookable. The next page starts just
   * after the last slot's start.
   * @throws BadInputError for a malformed id, a bad `first` or a reversed/too long window; NotFoundError for an unknown provider
   */
  async availableSlots(providerIdInput: string, from: Date, to: Date, first?: number | null): Promise<SlotRow[]> {
    const providerId = parseId(providerIdInput, "providerId");
    const limit = parseSlotPageSize(first);
    if (to.getTime() <= from.getTime()) throw new BadInputError("to must be after from", "to");
    if (to.getTime() - from.getTime() > MAX_SLOT_QUERY_DAYS * 86_400_000) {
      throw new BadInputError(`the window may span at most ${MAX_SLOT_QUERY_DAYS} days`, "to");
    }
    const provider = await findProviderById(this.deps.db, providerId);
    if (!provider) throw new NotFoundError("Provider", providerId);
    const now = this.deps.clock.now();
    // A schedule's minimum notice and horizon bound what is bookable; one-off slots have neither.
    const schedule = await findSchedule(this.deps.db, providerId);
    const notBefore = bookableAfter(now, schedule?.minimumNoticeMinutes);
    const until = schedule ? new Date(Math.min(to.getTime(), now.getTime() + schedule.horizonDays * 86_400_000)) : to;
    if (until.getTime() <= from.getTime()) return [];
    return listAvailableSlots(this.deps.db, { providerId, from, to: until, notBefore, limit });
  }
}
