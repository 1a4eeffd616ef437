import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "./context";
import { addAvailabilityComplexity, connectionComplexity, slotPageComplexity } from "../schema/list-cost";
import { PageArgs } from "../schema/pagination.args";
import { AddAvailabilityInput, CreateProviderInput } from "../schema/provider.input";
import { Provider, ProviderConnection } from "../schema/provider.type";
import { Slot } from "../schema/slot.type";
import { User } from "../schema/user.type";
import type { ProviderService } from "../services/provider.service";
import { toConnection } from "./mappers";

@Resolver(() => Provider)
export class ProviderResolver {
  constructor(private readonly providerService: ProviderService) {}

  @Query(() => Provider, { nullable: true })
  provider(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Provider | null> {
    return this.providerService.getProvider(id);
  }

  @Query(() => ProviderConnection, { complexity: connectionComplexity })
  async providers(@Args(() => PageArgs) args: PageArgs, @Ctx() ctx: GraphQLContext): Promise<ProviderConnection> {
    return toConnection(await this.providerService.listProviders(args.first, args.after));
  }

  @Query(() => [Slot], {
    description:
      "Bookable slots of a provider whose start lies in [from, to), soonest first: at most `first` of them. For the next ones, ask again from just after the last slot's start.",
    complexity: slotPageComplexity,
  })
  availableSlots(
    @Arg("providerId", () => ID) providerId: string,
    @Arg("from", () => Date) from: Date,
    @Arg("to", () => Date) to: Date,
    @Arg("first", () => Int, { nullable: true, description: "How many slots at most, 1 to 1000; default 200." }) first: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Slot[]> {
    return this.providerService.availableSlots(providerId, from, to, first);
  }

  @Mutation(() => Provider)
  createProvider(@Arg("input", () => CreateProviderInput) input: CreateProviderInput, @Ctx() ctx: GraphQLContext): Promise<Provider> {
    return this.providerService.createProvider(ctx.viewer, input);
  }

  @Mutation(() => [Slot], { complexity: addAvailabilityComplexity })
  addAvailability(@Arg("input", () => AddAvailabilityInput) input: AddAvailabilityInput, @Ctx() ctx: GraphQLContext): Promise<Slot[]> {
    return this.providerService.addAvailability(ctx.viewer, input);
  }

  @FieldResolver(() => User)
  async owner(@Root() provider: Provider, @Ctx() ctx: GraphQLContext): Promise<User> {
    const user = await ctx.loaders.user.load(provider.ownerId);
    if (!user) throw new Error(`owner ${provider.ownerId} of provider ${provider.id} is missing`);
    return user;
  }
}
