import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import type { LivePubSub } from "../events/pubsub";
import { AuthResolver } from "../resolvers/auth.resolver";
import { BookingResolver } from "../resolvers/booking.resolver";
import { EventLogResolver } from "../resolvers/event-log.resolver";
import { CalendarFeedResolver } from "../resolvers/calendar-feed.resolver";
import { OutboxStatusResolver } from "../resolvers/outbox-status.resolver";
import { ProviderResolver } from "../resolvers/provider.resolver";
import { ScheduleResolver } from "../resolvers/schedule.resolver";
import { SlotResolver } from "../resolvers/slot.resolver";
import { SubscriptionResolver } from "../resolvers/subscription.resolver";
import { WebhookResolver } from "../resolvers/webhook.resolver";
import { UserResolver } from "../resolvers/user.resolver";
import { DateTimeISO } from "./scalars";

export const RESOLVERS = [AuthResolver, ProviderResolver, SlotResolver, BookingResolver, SubscriptionResolver, OutboxStatusResolver, ScheduleResolver, EventLogResolver, WebhookResolver, CalendarFeedResolver, UserResolver] as const;

/**
 * Builds the executable schema. Input validation is done by the services (domain
 * rules with domain errors), so type-graphql's class-validator integration is off.
 */
export function buildAppSchema(pubSub: LivePubSub): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: [...RESOLVERS], pubSub, validate: false, scalarsMap: [{ type: Date, scalar: DateTimeISO }] });
}
