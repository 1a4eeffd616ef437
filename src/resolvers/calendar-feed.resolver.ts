import { Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { User } from "../schema/user.type";

/** Calendar feeds (contract part 6): `User.calendarFeedUrl` and `rotateCalendarFeedUrl`. */
@Resolver(() => User)
export class CalendarFeedResolver {
  @FieldResolver(() => String, {
    nullable: true,
    description:
      "A secret iCalendar (RFC 5545) feed of this user's bookings (a provider owner's: those of every provider they own); only the user themself may read it. GET it without other credentials.",
  })
  calendarFeedUrl(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<string | null> {
    return ctx.services.calendarFeeds.feedUrl(ctx.viewer, user.id);
  }

  @Mutation(() => String, { description: "Replaces the caller's calendar feed URL; the old one stops working." })
  rotateCalendarFeedUrl(@Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.calendarFeeds.rotate(ctx.viewer);
  }
}
