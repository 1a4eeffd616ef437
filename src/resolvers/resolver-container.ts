import type { ContainerType } from "type-graphql";
import type { Services } from "../services";
import { AuthResolver } from "./auth.resolver";
import { BookingResolver } from "./booking.resolver";
import { CalendarFeedResolver } from "./calendar-feed.resolver";
import { EventLogResolver } from "./event-log.resolver";
import { OutboxStatusResolver } from "./outbox-status.resolver";
import { ProviderResolver } from "./provider.resolver";
import { ScheduleResolver } from "./schedule.resolver";
import { SlotResolver } from "./slot.resolver";
import { SubscriptionResolver } from "./subscription.resolver";
import { UserResolver } from "./user.resolver";
import { WebhookResolver } from "./webhook.resolver";

/** Every resolver class of the API, in the order type-graphql registers them. */
export const RESOLVERS = [
  AuthResolver,
  ProviderResolver,
  SlotResolver,
  BookingResolver,
  SubscriptionResolver,
  OutboxStatusResolver,
  ScheduleResolver,
  EventLogResolver,
  WebhookResolver,
  CalendarFeedResolver,
  UserResolver,
] as const;

/** One instance of each resolver, each given the services it calls: read this to go from a resolver to its service. */
function createResolvers(s: Services): InstanceType<(typeof RESOLVERS)[number]>[] {
  const createLoaders: Services["createLoaders"] = (viewer) => s.createLoaders(viewer);
  return [
    new AuthResolver(s.auth),
    new ProviderResolver(s.provider),
    new SlotResolver(s.slotBlock),
    new BookingResolver({ query: s.bookingQuery, create: s.bookingCreate, transition: s.bookingTransition, reschedule: s.bookingReschedule }),
    new SubscriptionResolver(createLoaders),
    new OutboxStatusResolver(s.outboxStatus),
    new ScheduleResolver(s.schedule),
    new EventLogResolver(s.eventLog, createLoaders),
    new WebhookResolver(s.webhook),
    new CalendarFeedResolver(s.calendarFeed),
    new UserResolver(),
  ];
}

const containers = new WeakMap<Services, ContainerType>();

/**
 * type-graphql's container (`buildSchema({ container })`) for one set of services: the resolver
 * instances, built on first use and kept as long as `services` lives, which is once per process
 * (`createServices`). Keyed by the services object so that every caller building a context
 * (HTTP, graphql-ws, tests) gets resolvers wired to the services it put there.
 *
 * @throws Error from `get` for a class that is not in {@link RESOLVERS}
 */
export function resolverContainer(services: Services): ContainerType {
  let container = containers.get(services);
  if (!container) {
    const instances = new Map<unknown, object>(createResolvers(services).map((r) => [r.constructor, r]));
    container = {
      get(someClass: { name?: string }) {
        const instance = instances.get(someClass);
        if (!instance) throw new Error(`${someClass.name ?? "a class"} is not a resolver of this schema`);
        return instance;
      },
    };
    containers.set(services, container);
  }
  return container;
}
