import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { Provider } from "../schema/provider.type";
import { Slot } from "../schema/slot.type";
import type { SlotBlockService } from "../services/slot-block.service";
import type { GraphQLContext } from "./context";

@Resolver(() => Slot)
export class SlotResolver {
  constructor(private readonly slotBlock: SlotBlockService) {}

  @Mutation(() => Slot, { description: "Takes an AVAILABLE slot off sale (provider's owner)." })
  blockSlot(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Slot> {
    return this.slotBlock.blockSlot(ctx.viewer, id);
  }

  @Mutation(() => Slot, { description: "Puts a BLOCKED slot back on sale (provider's owner)." })
  unblockSlot(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Slot> {
    return this.slotBlock.unblockSlot(ctx.viewer, id);
  }

  @FieldResolver(() => Provider)
  async provider(@Root() slot: Slot, @Ctx() ctx: GraphQLContext): Promise<Provider> {
    const provider = await ctx.loaders.provider.load(slot.providerId);
    if (!provider) throw new Error(`provider ${slot.providerId} of slot ${slot.id} is missing`);
    return provider;
  }
}
