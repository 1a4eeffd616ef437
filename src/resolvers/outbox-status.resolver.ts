import { Ctx, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { OutboxStatus } from "../schema/outbox-status.type";

@Resolver()
export class OutboxStatusResolver {
  @Query(() => OutboxStatus, { description: "How many events wait for SQS, the oldest's age and the last send error. ADMIN only." })
  outboxStatus(@Ctx() ctx: GraphQLContext): Promise<OutboxStatus> {
    return ctx.services.outboxStatus.getStatus(ctx.viewer);
  }
}
