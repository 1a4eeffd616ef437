import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import type { LivePubSub } from "../events/pubsub";
import type { GraphQLContext } from "../resolvers/context";
import { RESOLVERS, resolverContainer } from "../resolvers/resolver-container";
import { DateTimeISO } from "./scalars";

/**
 * Builds the executable schema. Input validation is done by the services (domain
 * rules with domain errors), so type-graphql's class-validator integration is off.
 * Resolvers are taken from {@link resolverContainer} for the services in each operation's
 * context, so they are built once per services object (per process), not per request.
 */
export function buildAppSchema(pubSub: LivePubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...RESOLVERS],
    container: ({ context }: { context: GraphQLContext }) => resolverContainer(context.services),
    pubSub,
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTimeISO }],
  });
}
