import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "./context";
import { User } from "../schema/user.type";
import { visibleEmail } from "../services/access";

@Resolver(() => User)
export class UserResolver {
  /** Null unless the caller may see it ({@link visibleEmail}); one batched query per request at most. */
  @FieldResolver(() => String, { nullable: true })
  email(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<string | null> | string | null {
    if (user.signedIn) return user.email;
    return visibleEmail(ctx.viewer, user, (id) => ctx.loaders.sharesBooking.load(id));
  }
}
