import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "./context";
import { LIST_BOUNDS, connectionComplexity, listComplexity } from "../schema/list-cost";
import { CreateBookingInput } from "../schema/booking.input";
import { Booking, BookingConnection, BookingStatusChange } from "../schema/booking.type";
import { BookingStatus } from "../schema/enums";
import { PageArgs } from "../schema/pagination.args";
import { Provider } from "../schema/provider.type";
import { Slot } from "../schema/slot.type";
import { User } from "../schema/user.type";
import type { BookingCreateService } from "../services/booking-create.service";
import type { BookingQueryService } from "../services/booking-query.service";
import type { BookingRescheduleService } from "../services/booking-reschedule.service";
import type { BookingTransitionService } from "../services/booking-transition.service";
import { toConnection } from "./mappers";

function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}

/** The booking use-cases a {@link BookingResolver} calls. */
export interface BookingResolverDeps {
  query: BookingQueryService;
  create: BookingCreateService;
  transition: BookingTransitionService;
  reschedule: BookingRescheduleService;
}

@Resolver(() => Booking)
export class BookingResolver {
  constructor(private readonly bookings: BookingResolverDeps) {}

  @Query(() => Booking, { nullable: true, description: "A booking visible to the caller; NOT_FOUND otherwise." })
  booking(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Booking> {
    return this.bookings.query.getBooking(ctx.viewer, id);
  }

  @Query(() => BookingConnection, { complexity: connectionComplexity })
  async myBookings(
    @Arg("status", () => BookingStatus, { nullable: true }) status: BookingStatus | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: GraphQLContext,
  ): Promise<BookingConnection> {
    return toConnection(await this.bookings.query.myBookings(ctx.viewer, { status, ...page }));
  }

  @Query(() => BookingConnection, { complexity: connectionComplexity })
  async providerBookings(
    @Arg("providerId", () => ID) providerId: string,
    @Arg("status", () => BookingStatus, { nullable: true }) status: BookingStatus | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: GraphQLContext,
  ): Promise<BookingConnection> {
    return toConnection(await this.bookings.query.providerBookings(ctx.viewer, providerId, { status, ...page }));
  }

  @Mutation(() => Booking, { description: "Books a slot. Replaying an idempotencyKey returns the first booking." })
  async createBooking(@Arg("input", () => CreateBookingInput) input: CreateBookingInput, @Ctx() ctx: GraphQLContext): Promise<Booking> {
    return (await this.bookings.create.createBooking(ctx.viewer, input)).booking;
  }

  @Mutation(() => Booking)
  acceptBooking(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Booking> {
    return this.bookings.transition.acceptBooking(ctx.viewer, id);
  }

  @Mutation(() => Booking)
  rejectBooking(
    @Arg("id", () => ID) id: string,
    @Arg("reason", () => String, { nullable: true }) reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Booking> {
    return this.bookings.transition.rejectBooking(ctx.viewer, id, reason);
  }

  @Mutation(() => Booking)
  cancelBooking(
    @Arg("id", () => ID) id: string,
    @Arg("reason", () => String, { nullable: true }) reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Booking> {
    return this.bookings.transition.cancelBooking(ctx.viewer, id, reason);
  }

  @Mutation(() => Booking, { description: "Moves a PENDING or CONFIRMED booking to another slot of the same provider; the booking keeps its id." })
  rescheduleBooking(@Arg("id", () => ID) id: string, @Arg("slotId", () => ID) slotId: string, @Ctx() ctx: GraphQLContext): Promise<Booking> {
    return this.bookings.reschedule.rescheduleBooking(ctx.viewer, id, slotId);
  }

  @FieldResolver(() => Slot)
  async slot(@Root() b: Booking, @Ctx() ctx: GraphQLContext): Promise<Slot> {
    return present(await ctx.loaders.slot.load(b.slotId), `slot ${b.slotId}`);
  }

  @FieldResolver(() => Provider)
  async provider(@Root() b: Booking, @Ctx() ctx: GraphQLContext): Promise<Provider> {
    return present(await ctx.loaders.provider.load(b.providerId), `provider ${b.providerId}`);
  }

  @FieldResolver(() => User)
  async customer(@Root() b: Booking, @Ctx() ctx: GraphQLContext): Promise<User> {
    return present(await ctx.loaders.user.load(b.customerId), `customer ${b.customerId}`);
  }

  @FieldResolver(() => [BookingStatusChange], { description: "Every transition, oldest first.", complexity: listComplexity(LIST_BOUNDS.bookingHistory) })
  history(@Root() b: Booking, @Ctx() ctx: GraphQLContext): Promise<BookingStatusChange[]> {
    return ctx.loaders.history.load(b.id);
  }
}
