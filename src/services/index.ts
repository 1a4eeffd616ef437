import type { Config } from "../config";
import type { Db } from "../db/client";
import type { Clock } from "../domain/clock";
import type { FollowOptions } from "../events/event-log";
import type { LivePublisher } from "../events/live-publisher";
import type { LivePubSub } from "../events/pubsub";
import type { RelayRuntimeStatus } from "../events/outbox-relay";
import { AuthService } from "./auth.service";
import { BookingCreateService } from "./booking-create.service";
import { BookingExpiryService } from "./booking-expiry.service";
import { BookingRescheduleService } from "./booking-reschedule.service";
import { BookingQueryService } from "./booking-query.service";
import { BookingTransitionService } from "./booking-transition.service";
import { randomBytes } from "node:crypto";
import { CalendarFeedService } from "./calendar-feed.service";
import { createLoaders, type Loaders } from "./data-loaders";
import { EventLogService } from "./event-log.service";
import type { LoginThrottle } from "./login-throttle";
import { OutboxStatusService } from "./outbox-status.service";
import { ProviderService } from "./provider.service";
import { ReminderService } from "./reminder.service";
import { ScheduleService } from "./schedule.service";
import { SlotBlockService } from "./slot-block.service";
import type { Viewer } from "../domain/viewer";
import type { TokenService } from "./token.service";
import { DEVELOPMENT_WEBHOOK_POLICY, WebhookService } from "./webhook.service";

export type { Viewer } from "../domain/viewer";
export type { Loaders } from "./data-loaders";

/** Every use-case, wired once per process. */
export interface Services {
  auth: AuthService;
  providers: ProviderService;
  bookingCreate: BookingCreateService;
  bookingTransition: BookingTransitionService;
  bookingQuery: BookingQueryService;
  outboxStatus: OutboxStatusService;
  schedules: ScheduleService;
  bookingReschedule: BookingRescheduleService;
  bookingExpiry: BookingExpiryService;
  reminders: ReminderService;
  slotBlock: SlotBlockService;
  eventLog: EventLogService;
  webhooks: WebhookService;
  calendarFeeds: CalendarFeedService;
  /** A fresh set of DataLoaders for `viewer`; call once per request or subscription event. */
  createLoaders(viewer: Viewer | null): Loaders;
}

export interface ServiceDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, "bookingHoldMinutes" | "refreshTokenTtlDays" | "reminderOffsetsMinutes"> & Partial<Pick<Config, "eventRetentionDays" | "webhooks">>;
  tokens: TokenService;
  live: LivePublisher;
  /** Failed-login throttle; none means unthrottled (tests of other things). */
  loginThrottle?: LoginThrottle;
  /** This instance's relay state, when it runs one. */
  relayStatus?: () => RelayRuntimeStatus | undefined;
  /** Wakes event-log streams when an event commits (on any instance, with Redis); none: they poll. */
  pubSub?: LivePubSub;
  /** Timings of event-log streams (tests shorten them). */
  eventStream?: FollowOptions;
  /**
   * Calendar feed URLs: the server secret their tokens derive from, and the public origin they
   * start with. Default: a random secret per process and `http://127.0.0.1`.
   */
  calendarFeed?: { secret: string; baseUrl: () => string };
}

/** `EVENT_RETENTION_DAYS`' default (DESIGN.md "Environment"). */
const DEFAULT_EVENT_RETENTION_DAYS = 30;

export function createServices(d: ServiceDeps): Services {
  const bookingQuery = new BookingQueryService(d.db);
  return {
    auth: new AuthService(d.db, d.tokens, d.clock, d.config.refreshTokenTtlDays, d.loginThrottle, d.live),
    providers: new ProviderService(d.db, d.clock, d.live),
    bookingCreate: new BookingCreateService(d.db, d.clock, d.live, d.config.bookingHoldMinutes),
    bookingTransition: new BookingTransitionService(d.db, d.clock, d.live),
    bookingQuery,
    outboxStatus: new OutboxStatusService(d.db, d.clock, d.relayStatus ?? (() => undefined)),
    schedules: new ScheduleService(d.db, d.clock, d.live),
    bookingReschedule: new BookingRescheduleService(d.db, d.clock, d.live, d.config.bookingHoldMinutes),
    bookingExpiry: new BookingExpiryService(d.db, d.clock, d.live),
    reminders: new ReminderService(d.db, d.clock, d.live, d.config.reminderOffsetsMinutes),
    slotBlock: new SlotBlockService(d.db, d.clock, d.live),
    eventLog: new EventLogService(d.db, d.clock, bookingQuery, d.pubSub, d.config.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS, d.eventStream),
    webhooks: new WebhookService(d.db, d.clock, d.config.webhooks ?? DEVELOPMENT_WEBHOOK_POLICY),
    calendarFeeds: new CalendarFeedService(
      d.db,
      d.clock,
      d.calendarFeed?.secret ?? randomBytes(32).toString("hex"),
      d.calendarFeed?.baseUrl ?? (() => "http://127.0.0.1"),
    ),
    createLoaders: (viewer) => createLoaders(d.db, viewer),
  };
}
