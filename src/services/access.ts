import type { ProviderRow } from "../db/schema";
import { ForbiddenError, UnauthenticatedError } from "../domain/errors";
import type { Viewer } from "../domain/viewer";

/**
 * Authorisation rules in one place (issue #2 "Who may do what"):
 * a provider is managed by its owner or an admin; a booking is seen (and cancelled)
 * by its customer, its provider's owner or an admin, and is NOT_FOUND to anyone else.
 */

/** @throws UnauthenticatedError for an anonymous caller */
export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw new UnauthenticatedError();
  return viewer;
}

/** @throws UnauthenticatedError when anonymous, ForbiddenError when the role is not in `roles` */
export function requireRole(viewer: Viewer | null, roles: readonly Viewer["role"][]): Viewer {
  const v = requireViewer(viewer);
  if (!roles.includes(v.role)) throw new ForbiddenError(`Requires role ${roles.join(" or ")}`);
  return v;
}

export function managesProvider(viewer: Viewer, provider: Pick<ProviderRow, "ownerId">): boolean {
  return viewer.role === "ADMIN" || provider.ownerId === viewer.userId;
}

/** @throws ForbiddenError unless `viewer` owns `provider` or is an admin */
export function requireProviderManager(viewer: Viewer, provider: Pick<ProviderRow, "ownerId">): void {
  if (!managesProvider(viewer, provider)) throw new ForbiddenError("Only the provider's owner may do this");
}

/** True when `viewer` may see the booking at all. */
export function canSeeBooking(viewer: Viewer, booking: { customerId: string }, provider: Pick<ProviderRow, "ownerId">): boolean {
  return booking.customerId === viewer.userId || managesProvider(viewer, provider);
}

/**
 * An account's email as `viewer` may see it (issue 10: owners' addresses were public): the user
 * themself, admins, and the other party of a booking they share (customer and provider owner)
 * see it; anyone else, anonymous callers included, gets null.
 *
 * @param sharesBooking - whether `viewer` and the user share a booking (batched per request)
 */
export async function visibleEmail(
  viewer: Viewer | null,
  user: { id: string; email: string | null },
  sharesBooking: (userId: string) => Promise<boolean>,
): Promise<string | null> {
  if (!viewer || user.email === null) return null;
  if (viewer.userId === user.id || viewer.role === "ADMIN") return user.email;
  return (await sharesBooking(user.id)) ? user.email : null;
}
