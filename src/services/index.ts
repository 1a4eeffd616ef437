import type { Config } from "../config";
import type { Db } from "../db/client";
import type { Clock } from "../domain/clock";
import type { LivePublisher } from "../events/live-publisher";
import type { RelayRuntimeStatus } from "../events/outbox-relay";
import { AuthService } from "./auth.service";
import { BookingCreateService } from "./booking-create.service";
import { BookingExpiryService } from "./booking-expiry.service";
import { BookingRescheduleService } from "./booking-reschedule.service";
import { BookingQueryService } from "./booking-query.service";
import { BookingTransitionService } from "./booking-transition.service";
import { createLoaders, type Loaders } from "./data-loaders";
import type { LoginThrottle } from "./login-throttle";
import { OutboxStatusService } from "./outbox-status.service";
import { ProviderService } from "./provider.service";
import { ReminderService } from "./reminder.service";
import { ScheduleService } from "./schedule.service";
import { SlotBlockService } from "./slot-block.service";
import type { TokenService, Viewer } from "./token.service";

export type { Viewer } from "./token.service";
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
  /** A fresh set of DataLoaders for `viewer`; call once per request or subscription event. */
  createLoaders(viewer: Viewer | null): Loaders;
}

export interface ServiceDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, "bookingHoldMinutes" | "refreshTokenTtlDays" | "reminderOffsetsMinutes">;
  tokens: TokenService;
  live: LivePublisher;
  /** Failed-login throttle; none means unthrottled (tests of other things). */
  loginThrottle?: LoginThrottle;
  /** This instance's relay state, when it runs one. */
  relayStatus?: () => RelayRuntimeStatus | undefined;
}

export function createServices(d: ServiceDeps): Services {
  return {
    auth: new AuthService(d.db, d.tokens, d.clock, d.config.refreshTokenTtlDays, d.loginThrottle, d.live),
    providers: new ProviderService(d.db, d.clock, d.live),
    bookingCreate: new BookingCreateService(d.db, d.clock, d.live, d.config.bookingHoldMinutes),
    bookingTransition: new BookingTransitionService(d.db, d.clock, d.live),
    bookingQuery: new BookingQueryService(d.db),
    outboxStatus: new OutboxStatusService(d.db, d.clock, d.relayStatus ?? (() => undefined)),
    schedules: new ScheduleService(d.db, d.clock, d.live),
    bookingReschedule: new BookingRescheduleService(d.db, d.clock, d.live, d.config.bookingHoldMinutes),
    bookingExpiry: new BookingExpiryService(d.db, d.clock, d.live),
    reminders: new ReminderService(d.db, d.clock, d.live, d.config.reminderOffsetsMinutes),
    slotBlock: new SlotBlockService(d.db, d.clock, d.live),
    createLoaders: (viewer) => createLoaders(d.db, viewer),
  };
}
