import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import type { WebhookDeliveryRow } from "../db/schema";
import type { GraphQLContext } from "./context";
import { LIST_BOUNDS, connectionComplexity, listComplexity } from "../schema/list-cost";
import { encodeDeliveryCursor, type WebhookEndpointView, type WebhookService } from "../services/webhook.service";
import { PageArgs } from "../schema/pagination.args";
import { Provider } from "../schema/provider.type";
import { CreateWebhookEndpointInput, UpdateWebhookEndpointInput } from "../schema/webhook.input";
import { WebhookDelivery, WebhookDeliveryConnection, WebhookEndpoint, WebhookEndpointSecret } from "../schema/webhook.type";

function toEndpoint(view: WebhookEndpointView): WebhookEndpoint {
  return { ...view, eventTypes: view.eventTypes as WebhookEndpoint["eventTypes"] };
}

function toDelivery(row: WebhookDeliveryRow): WebhookDelivery {
  return { ...row, id: String(row.id), eventType: row.eventType as WebhookDelivery["eventType"] };
}

@Resolver(() => WebhookEndpoint)
export class WebhookResolver {
  constructor(private readonly webhooks: WebhookService) {}

  @Query(() => [WebhookEndpoint], {
    description: "The provider's owner's endpoints (an admin's: all).",
    complexity: listComplexity(LIST_BOUNDS.webhookEndpoints),
  })
  async webhookEndpoints(@Ctx() ctx: GraphQLContext): Promise<WebhookEndpoint[]> {
    return (await this.webhooks.listEndpoints(ctx.viewer)).map(toEndpoint);
  }

  @Query(() => WebhookEndpoint, { description: "One endpoint the caller manages (an admin: any); NOT_FOUND otherwise." })
  async webhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<WebhookEndpoint> {
    return toEndpoint(await this.webhooks.getEndpoint(ctx.viewer, id));
  }

  @Mutation(() => WebhookEndpointSecret, { description: "A PROVIDER (for providers it owns) or an ADMIN." })
  async createWebhookEndpoint(
    @Arg("input", () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WebhookEndpointSecret> {
    const r = await this.webhooks.createEndpoint(ctx.viewer, input);
    return { endpoint: toEndpoint(r.endpoint), secret: r.secret };
  }

  @Mutation(() => WebhookEndpoint)
  async updateWebhookEndpoint(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WebhookEndpoint> {
    return toEndpoint(await this.webhooks.updateEndpoint(ctx.viewer, id, input));
  }

  @Mutation(() => Boolean)
  deleteWebhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.webhooks.deleteEndpoint(ctx.viewer, id);
  }

  @Mutation(() => WebhookEndpointSecret, { description: "A new secret; the old one stops signing at once." })
  async rotateWebhookSecret(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<WebhookEndpointSecret> {
    const r = await this.webhooks.rotateSecret(ctx.viewer, id);
    return { endpoint: toEndpoint(r.endpoint), secret: r.secret };
  }

  @Mutation(() => WebhookDelivery, { description: "Sends one event to the endpoint again, as a new delivery." })
  async redeliverWebhook(
    @Arg("endpointId", () => ID) endpointId: string,
    @Arg("eventId", () => ID) eventId: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WebhookDelivery> {
    return toDelivery(await this.webhooks.redeliver(ctx.viewer, endpointId, eventId));
  }

  @FieldResolver(() => Provider, { nullable: true, description: "Only this provider's events; null: every provider its owner owns (an admin's: all)." })
  async provider(@Root() endpoint: WebhookEndpoint, @Ctx() ctx: GraphQLContext): Promise<Provider | null> {
    return endpoint.providerId ? ((await ctx.loaders.provider.load(endpoint.providerId)) ?? null) : null;
  }

  @FieldResolver(() => WebhookDeliveryConnection, { description: "Newest first.", complexity: connectionComplexity })
  async deliveries(@Root() endpoint: WebhookEndpoint, @Args(() => PageArgs) args: PageArgs, @Ctx() ctx: GraphQLContext): Promise<WebhookDeliveryConnection> {
    const page = await this.webhooks.listDeliveries(endpoint.id, args.first, args.after);
    const edges = page.items.map((row) => ({ cursor: encodeDeliveryCursor(row.id), node: toDelivery(row) }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }
}
