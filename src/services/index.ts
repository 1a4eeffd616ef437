import { randomBytes } from "node:crypto";
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
import { UnitOfWork } from "./unit-of-work";
import { DEVELOPMENT_WEBHOOK_POLICY, WebhookService } from "./webhook.service";

export type { Viewer } from "../domain/viewer";
export type { Loaders } from "./data-loaders";

/** Every use-case, wired once per process. */
export interface Services {
  auth: AuthService;
  provider: ProviderService;
  bookingCreate: BookingCreateService;
  bookingTransition: BookingTransitionService;
  bookingQuery: BookingQueryService;
  outboxStatus: OutboxStatusService;
  schedule: ScheduleService;
  bookingReschedule: BookingRescheduleService;
  bookingExpiry: BookingExpiryService;
  reminder: ReminderService;
  slotBlock: SlotBlockService;
  eventLog: EventLogService;
  webhook: WebhookService;
  calendarFeed: CalendarFeedService;
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
  /**
   * The id of the API request being served (`x-request-id`), read when a change starts and put
   * into its events; undefined outside a request (workers). The composition root (`assembleServices` in
   * src/core.ts) passes the request context that the HTTP and graphql-ws layers set; none: no ids.
   */
  requestId?: () => string | undefined;
}

/** `EVENT_RETENTION_DAYS`' default (DESIGN.md "Environment"). */
const DEFAULT_EVENT_RETENTION_DAYS = 30;

export function createServices(d: ServiceDeps): Services {
  const uow = new UnitOfWork({ db: d.db, live: d.live, requestId: d.requestId ?? (() => undefined) });
  const base = { db: d.db, clock: d.clock, uow };
  const bookingQuery = new BookingQueryService({ db: d.db });
  return {
    auth: new AuthService({
      db: d.db,
      tokens: d.tokens,
      clock: d.clock,
      refreshTtlDays: d.config.refreshTokenTtlDays,
      throttle: d.loginThrottle,
      revocations: d.live,
    }),
    provider: new ProviderService(base),
    bookingCreate: new BookingCreateService({ ...base, holdMinutes: d.config.bookingHoldMinutes }),
    bookingTransition: new BookingTransitionService(base),
    bookingQuery,
    outboxStatus: new OutboxStatusService({ db: d.db, clock: d.clock, relayStatus: d.relayStatus ?? (() => undefined) }),
    schedule: new ScheduleService(base),
    bookingReschedule: new BookingRescheduleService({ ...base, holdMinutes: d.config.bookingHoldMinutes }),
    bookingExpiry: new BookingExpiryService(base),
    reminder: new ReminderService({ ...base, offsets: d.config.reminderOffsetsMinutes }),
    slotBlock: new SlotBlockService(base),
    eventLog: new EventLogService({
      db: d.db,
      clock: d.clock,
      bookingQuery,
      pubSub: d.pubSub,
      retentionDays: d.config.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS,
      followOptions: d.eventStream,
    }),
    webhook: new WebhookService({ db: d.db, clock: d.clock, policy: d.config.webhooks ?? DEVELOPMENT_WEBHOOK_POLICY }),
    calendarFeed: new CalendarFeedService({
      db: d.db,
      clock: d.clock,
      secret: d.calendarFeed?.secret ?? randomBytes(32).toString("hex"),
      baseUrl: d.calendarFeed?.baseUrl ?? (() => "http://127.0.0.1"),
    }),
    createLoaders: (viewer) => createLoaders(d.db, viewer),
  };
}
