import { Arg, Ctx, ID, Resolver, Root, Subscription } from "type-graphql";
import type { GraphQLContext } from "./context";
import type { BookingEventMessage, SlotEventMessage } from "../events/pubsub";
import { BookingEvent } from "../schema/booking.type";
import { SlotEvent } from "../schema/slot.type";
import type { Services } from "../services";
import { toBookingEvent, toSlot } from "./mappers";

type SubscribeData = { args: Record<string, string>; context: GraphQLContext };

/**
 * Live updates. Authorisation happens once, when the subscription starts, with the
 * same rules as the matching query; each delivered event gets fresh DataLoaders so
 * nothing cached outlives one event. The `subscribe` options run without a resolver instance, so
 * they take the query service from the context.
 */
@Resolver()
export class SubscriptionResolver {
  constructor(private readonly createLoaders: Services["createLoaders"]) {}

  @Subscription(() => BookingEvent, {
    description: "The booking's customer, its provider's owner and admins may listen.",
    subscribe: async ({ args, context }: SubscribeData) => {
      const id = await context.services.bookingQuery.authorizeBookingSubscription(context.viewer, args.bookingId!);
      return context.pubSub.subscribeTopic("BOOKING_EVENTS", id);
    },
  })
  bookingStatusChanged(
    @Arg("bookingId", () => ID) _bookingId: string,
    @Root() message: BookingEventMessage,
    @Ctx() ctx: GraphQLContext,
  ): BookingEvent {
    ctx.loaders = this.createLoaders(ctx.viewer);
    return toBookingEvent(message);
  }

  @Subscription(() => BookingEvent, {
    description: "Every event of a provider's bookings; its owner and admins may listen.",
    subscribe: async ({ args, context }: SubscribeData) => {
      const id = await context.services.bookingQuery.authorizeProviderSubscription(context.viewer, args.providerId!);
      return context.pubSub.subscribeTopic("PROVIDER_BOOKING_EVENTS", id);
    },
  })
  providerBookingEvents(
    @Arg("providerId", () => ID) _providerId: string,
    @Root() message: BookingEventMessage,
    @Ctx() ctx: GraphQLContext,
  ): BookingEvent {
    ctx.loaders = this.createLoaders(ctx.viewer);
    return toBookingEvent(message);
  }

  @Subscription(() => SlotEvent, {
    description: "Public: a provider's slots changing status, for live booking pages.",
    subscribe: async ({ args, context }: SubscribeData) => {
      const id = await context.services.bookingQuery.requireProvider(args.providerId!);
      return context.pubSub.subscribeTopic("SLOT_EVENTS", id);
    },
  })
  slotAvailabilityChanged(
    @Arg("providerId", () => ID) _providerId: string,
    @Root() message: SlotEventMessage,
    @Ctx() ctx: GraphQLContext,
  ): SlotEvent {
    ctx.loaders = this.createLoaders(ctx.viewer);
    return { slot: toSlot(message.slot) };
  }
}
