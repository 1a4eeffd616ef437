import type { Db } from "../db/client";
import type { Page } from "../db/cursor";
import { listBookings } from "../db/repositories/booking.repository";
import { findProviderById } from "../db/repositories/provider.repository";
import type { BookingRow, ProviderRow } from "../db/schema";
import type { BookingStatus } from "../domain/booking-lifecycle";
import { NotFoundError } from "../domain/errors";
import { parseId } from "../domain/ids";
import { requireProviderManager, requireViewer } from "./access";
import { findVisibleBooking } from "./booking-rows";
import { decodeCursor, parsePageSize } from "./page-input";
import type { Viewer } from "../domain/viewer";

export interface BookingPageArgs {
  status?: BookingStatus | null;
  first?: number | null;
  after?: string | null;
}

/** What {@link BookingQueryService} needs. */
export interface BookingQueryDeps {
  db: Db;
}

/** Reads of bookings, and the authorisation of booking subscriptions. */
export class BookingQueryService {
  constructor(private readonly deps: BookingQueryDeps) {}

  /**
   * A booking visible to the caller.
   * @throws UnauthenticatedError when anonymous; NotFoundError when unknown or not visible
   */
  async getBooking(viewer: Viewer | null, idInput: string): Promise<BookingRow> {
    const v = requireViewer(viewer);
    const id = parseId(idInput);
    return (await findVisibleBooking(this.deps.db, v, id)).booking;
  }

  /** The caller's own bookings as a customer, newest first. */
  async myBookings(viewer: Viewer | null, args: BookingPageArgs): Promise<Page<BookingRow>> {
    const v = requireViewer(viewer);
    const limit = parsePageSize(args.first);
    return listBookings(this.deps.db, { customerId: v.userId, status: args.status ?? undefined, limit, after: args.after ? decodeCursor(args.after) : undefined });
  }

  /**
   * Bookings of a provider the caller manages, newest first.
   * @throws NotFoundError for an unknown provider; ForbiddenError unless the caller owns it
   */
  async providerBookings(viewer: Viewer | null, providerIdInput: string, args: BookingPageArgs): Promise<Page<BookingRow>> {
    const v = requireViewer(viewer);
    await this.requireManagedProvider(v, providerIdInput);
    const limit = parsePageSize(args.first);
    return listBookings(this.deps.db, {
      providerId: parseId(providerIdInput, "providerId"),
      status: args.status ?? undefined,
      limit,
      after: args.after ? decodeCursor(args.after) : undefined,
    });
  }

  /** Authorises `bookingStatusChanged`: same rule as reading the booking. Returns the booking id. */
  async authorizeBookingSubscription(viewer: Viewer | null, bookingId: string): Promise<string> {
    return (await this.getBooking(viewer, bookingId)).id;
  }

  /** Authorises `providerBookingEvents`: the provider's owner or an admin. Returns the provider id. */
  async authorizeProviderSubscription(viewer: Viewer | null, providerIdInput: string): Promise<string> {
    return (await this.requireManagedProvider(requireViewer(viewer), providerIdInput)).id;
  }

  /** Checks a provider exists for public `slotAvailabilityChanged`. Returns the provider id. */
  async requireProvider(providerIdInput: string): Promise<string> {
    const id = parseId(providerIdInput, "providerId");
    const provider = await findProviderById(this.deps.db, id);
    if (!provider) throw new NotFoundError("Provider", id);
    return provider.id;
  }

  private async requireManagedProvider(v: Viewer, providerIdInput: string): Promise<ProviderRow> {
    const id = parseId(providerIdInput, "providerId");
    const provider = await findProviderById(this.deps.db, id);
    if (!provider) throw new NotFoundError("Provider", id);
    requireProviderManager(v, provider);
    return provider;
  }
}
