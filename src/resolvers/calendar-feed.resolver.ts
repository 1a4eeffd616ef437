import { Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "./context";
import { User } from "../schema/user.type";
import type { CalendarFeedService } from "../services/calendar-feed.service";

/** Calendar feeds (contract part 6): `User.calendarFeedUrl` and `rotateCalendarFeedUrl`. */
@Resolver(() => User)
export class CalendarFeedResolver {
  constructor(private readonly calendarFeeds: CalendarFeedService) {}

  @FieldResolver(() => String, {
    nullable: true,
    description:
      "A secret iCalendar (RFC 5545) feed of this user's bookings (a provider owner's: those of every provider they own); only the user themself may read it. GET it without other credentials.",
  })
  calendarFeedUrl(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<string | null> {
    return this.calendarFeeds.feedUrl(ctx.viewer, user.id);
  }

  @Mutation(() => String, { description: "Replaces the caller's calendar feed URL; the old one stops working." })
  rotateCalendarFeedUrl(@Ctx() ctx: GraphQLContext): Promise<string> {
    return this.calendarFeeds.rotate(ctx.viewer);
  }
}
