import { findProviderById } from "../db/repositories/provider.repository";
import { findSlotById } from "../db/repositories/slot.repository";
import type { SlotRow } from "../db/schema";
import { ConflictError, NotFoundError } from "../domain/errors";
import { parseId } from "../domain/ids";
import { requireProviderManager, requireViewer } from "./access";
import type { UseCaseDeps } from "./deps";
import { block, unblock } from "./slot-occupancy";
import type { Viewer } from "../domain/viewer";

/** What {@link SlotBlockService} needs. */
export type SlotBlockDeps = UseCaseDeps;

/** Taking single slots off sale and back. */
export class SlotBlockService {
  constructor(private readonly deps: SlotBlockDeps) {}

  /**
   * AVAILABLE -> BLOCKED, by the provider's owner (or an admin). Blocking a blocked slot is a no-op.
   * @throws NotFoundError / ForbiddenError; ConflictError `SLOT_UNAVAILABLE` when an active booking holds it
   */
  blockSlot(viewer: Viewer | null, id: string): Promise<SlotRow> {
    return this.change(viewer, id, "AVAILABLE", "BLOCKED");
  }

  /**
   * BLOCKED -> AVAILABLE, by the provider's owner (or an admin). Unblocking an available slot is a no-op.
   * @throws NotFoundError / ForbiddenError; ConflictError `INVALID_TRANSITION` when the slot is held or booked
   */
  unblockSlot(viewer: Viewer | null, id: string): Promise<SlotRow> {
    return this.change(viewer, id, "BLOCKED", "AVAILABLE");
  }

  private async change(viewer: Viewer | null, idInput: string, from: "AVAILABLE" | "BLOCKED", to: "AVAILABLE" | "BLOCKED"): Promise<SlotRow> {
    const v = requireViewer(viewer);
    const id = parseId(idInput);
    const { db, uow, clock } = this.deps;
    const slot = await findSlotById(db, id);
    const provider = slot && (await findProviderById(db, slot.providerId));
    if (!slot || !provider) throw new NotFoundError("Slot", id);
    requireProviderManager(v, provider);
    // The conditional UPDATE decides under the row lock; a booking racing for the slot either
    // claimed it first (we refuse) or finds it BLOCKED (it gets SLOT_UNAVAILABLE).
    // An unblock never puts back on sale a schedule slot the current schedule no longer offers.
    const changed = await uow.run(clock.now(), (changes) => (to === "BLOCKED" ? block(changes, id) : unblock(changes, id)));
    if (changed) return changed;
    const current = await findSlotById(db, id);
    if (current?.status === to) return current;
    if (current?.withdrawn || (to === "AVAILABLE" && current?.withdrawOnRelease)) {
      throw new ConflictError("INVALID_TRANSITION", "The slot was withdrawn by a schedule change; change the schedule instead");
    }
    if (to === "BLOCKED") throw new ConflictError("SLOT_UNAVAILABLE", "The slot has an active booking and cannot be blocked");
    throw new ConflictError("INVALID_TRANSITION", `Cannot unblock a slot that is ${current?.status ?? "gone"}`);
  }
}
