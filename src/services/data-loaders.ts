import DataLoader from "dataloader";
import type { Db } from "../db/client";
import { findStatusChangesByBookingIds, findUsersSharingBookingWith } from "../db/repositories/booking.repository";
import { findProvidersByIds } from "../db/repositories/provider.repository";
import { findSchedulesByProviderIds } from "../db/repositories/schedule.repository";
import { findSlotsByIds } from "../db/repositories/slot.repository";
import { findUsersByIds } from "../db/repositories/user.repository";
import type { BookingStatusChangeRow, ProviderRow, ScheduleRow, SlotRow, UserRow } from "../db/schema";
import type { Viewer } from "../domain/viewer";

/**
 * Batch loaders for every relation the schema resolves. Create one set per request
 * (and per subscription event): they cache, and a cache must not outlive the request.
 */
export interface Loaders {
  user: DataLoader<string, UserRow | undefined>;
  provider: DataLoader<string, ProviderRow | undefined>;
  slot: DataLoader<string, SlotRow | undefined>;
  history: DataLoader<string, BookingStatusChangeRow[]>;
  /** By provider id. */
  schedule: DataLoader<string, ScheduleRow | undefined>;
  /** By user id: whether that user and the request's viewer share a booking (false when anonymous). */
  sharesBooking: DataLoader<string, boolean>;
}

function byId<T extends { id: string }>(load: (ids: readonly string[]) => Promise<T[]>) {
  return new DataLoader<string, T | undefined>(async (ids) => {
    const rows = await load(ids);
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id));
  });
}

/** @param viewer - the request's caller; the `sharesBooking` loader answers for them */
export function createLoaders(db: Db, viewer: Viewer | null): Loaders {
  return {
    user: byId((ids) => findUsersByIds(db, ids)),
    provider: byId((ids) => findProvidersByIds(db, ids)),
    slot: byId((ids) => findSlotsByIds(db, ids)),
    schedule: new DataLoader<string, ScheduleRow | undefined>(async (ids) => {
      const map = new Map((await findSchedulesByProviderIds(db, ids)).map((r) => [r.providerId, r]));
      return ids.map((id) => map.get(id));
    }),
    sharesBooking: new DataLoader<string, boolean>(async (ids) => {
      if (!viewer) return ids.map(() => false);
      const sharing = await findUsersSharingBookingWith(db, viewer.userId, ids);
      return ids.map((id) => sharing.has(id));
    }),
    history: new DataLoader<string, BookingStatusChangeRow[]>(async (ids) => {
      const rows = await findStatusChangesByBookingIds(db, ids);
      const groups = new Map<string, BookingStatusChangeRow[]>(ids.map((id) => [id, []]));
      for (const r of rows) groups.get(r.bookingId)?.push(r);
      return ids.map((id) => groups.get(id) ?? []);
    }),
  };
}
