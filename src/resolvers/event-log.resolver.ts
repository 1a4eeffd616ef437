import { Arg, Ctx, ID, Int, Query, Resolver, Root, Subscription } from "type-graphql";
import type { EventLogEdge } from "../events/event-log";
import type { GraphQLContext } from "./context";
import { connectionComplexity } from "../schema/list-cost";
import { BookingEventConnection, BookingEventEdge } from "../schema/event-log.type";
import type { Services } from "../services";
import type { EventLogService } from "../services/event-log.service";
import { toBookingEvent } from "./mappers";

type SubscribeData = { args: { bookingId?: string | null; providerId?: string | null; after?: string | null }; context: GraphQLContext };

function toEdge(edge: EventLogEdge): BookingEventEdge {
  return { cursor: edge.cursor, node: toBookingEvent(edge.message) };
}

/** The event log: paged (`bookingEvents`) and followed live from a cursor (`bookingEventStream`). */
@Resolver()
export class EventLogResolver {
  constructor(
    private readonly eventLog: EventLogService,
    private readonly createLoaders: Services["createLoaders"],
  ) {}

  @Query(() => BookingEventConnection, {
    complexity: connectionComplexity,
    description:
      "Committed events the caller may see, oldest first: of one booking (its customer, its provider's owner, admins) or of one provider (its owner, admins). Exactly one of bookingId and providerId.",
  })
  async bookingEvents(
    @Arg("bookingId", () => ID, { nullable: true }) bookingId: string | null,
    @Arg("providerId", () => ID, { nullable: true }) providerId: string | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("first", () => Int, { nullable: true, description: "Page size, 1 to 100; default 20." }) first: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<BookingEventConnection> {
    const page = await this.eventLog.listEvents(ctx.viewer, { bookingId, providerId, after, first });
    return { edges: page.edges.map(toEdge), pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
  }

  @Subscription(() => BookingEventEdge, {
    description:
      "Resumable: first every committed event after `after` (a cursor from bookingEvents or from an earlier event of this stream), then live ones, with none missed and none repeated. Same access rules as bookingEvents; exactly one of bookingId and providerId.",
    // `subscribe` runs without a resolver instance, so it takes the service from the context.
    subscribe: ({ args, context }: SubscribeData) => context.services.eventLog.followEvents(context.viewer, args),
  })
  bookingEventStream(
    @Arg("bookingId", () => ID, { nullable: true }) _bookingId: string | null,
    @Arg("providerId", () => ID, { nullable: true }) _providerId: string | null,
    @Arg("after", () => String, { nullable: true }) _after: string | null,
    @Root() edge: EventLogEdge,
    @Ctx() ctx: GraphQLContext,
  ): BookingEventEdge {
    // Fresh loaders per event: nothing cached outlives one delivery.
    ctx.loaders = this.createLoaders(ctx.viewer);
    return toEdge(edge);
  }
}
