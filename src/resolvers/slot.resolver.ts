import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { Provider } from "../schema/provider.type";
import { Slot } from "../schema/slot.type";

@Resolver(() => Slot)
export class SlotResolver {
  @FieldResolver(() => Provider)
  async provider(@Root() slot: Slot, @Ctx() ctx: GraphQLContext): Promise<Provider> {
    const provider = await ctx.loaders.provider.load(slot.providerId);
    if (!provider) throw new Error(`provider ${slot.providerId} of slot ${slot.id} is missing`);
    return provider;
  }
}
