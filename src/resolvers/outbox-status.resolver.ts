import { Ctx, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "./context";
import { OutboxStatus } from "../schema/outbox-status.type";
import type { OutboxStatusService } from "../services/outbox-status.service";

@Resolver()
export class OutboxStatusResolver {
  constructor(private readonly outbox: OutboxStatusService) {}

  @Query(() => OutboxStatus, { description: "How many events wait for SQS, the oldest's age and the last send error. ADMIN only." })
  outboxStatus(@Ctx() ctx: GraphQLContext): Promise<OutboxStatus> {
    return this.outbox.getStatus(ctx.viewer);
  }
}
