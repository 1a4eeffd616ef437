import type { Client } from "graphql-ws";
import { sleep } from "./graphql";
import {
  BOOKING_STATUS_CHANGED,
  PROVIDER_BOOKING_EVENTS,
  SLOT_AVAILABILITY_CHANGED,
  type BookingEventPayload,
  type BookingEventType,
  type BookingStatus,
  type SlotEventPayload,
  type SlotStatus,
} from "./operations";

/** One event as a listener received it. */
export interface ReceivedEvent {
  eventId?: string;
  eventType?: BookingEventType;
  bookingId?: string;
  /** Booking status carried in the payload (booking events). */
  bookingStatus?: BookingStatus;
  slotId?: string;
  slotStatus?: SlotStatus;
  slotStartsAt?: string;
  slotEndsAt?: string;
}

export type ListenerKind = "providerBookingEvents" | "bookingStatusChanged" | "slotAvailabilityChanged";

/** A live subscription over a real graphql-ws client that records everything it receives. */
export class Listener {
  readonly events: ReceivedEvent[] = [];
  readonly errors: string[] = [];
  completed = false;
  private readonly unsubscribe: () => void;

  constructor(
    readonly kind: ListenerKind,
    /** Provider id or booking id the listener follows. */
    readonly target: string,
    readonly label: string,
    client: Client,
    query: string,
    variables: Record<string, unknown>,
    toEvent: (data: Record<string, unknown>) => ReceivedEvent,
  ) {
    this.unsubscribe = client.subscribe<Record<string, unknown>>(
      { query, variables },
      {
        next: (result) => {
          if (result.errors?.length) this.errors.push(...result.errors.map((e) => e.message));
          if (result.data) this.events.push(toEvent(result.data));
        },
        error: (err) => this.errors.push(describe(err)),
        complete: () => {
          this.completed = true;
        },
      },
    );
  }

  stop(): void {
    this.unsubscribe();
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (Array.isArray(err)) return err.map((e: { message?: string }) => e.message ?? String(e)).join("; ");
  // graphql-ws reports a closed socket as a CloseEvent.
  if (err && typeof err === "object" && "code" in err) return `socket closed ${(err as { code: number; reason?: string }).code} ${(err as { reason?: string }).reason ?? ""}`.trim();
  return String(err);
}

function bookingEvent(payload: BookingEventPayload | undefined): ReceivedEvent {
  return { eventId: payload?.eventId, eventType: payload?.eventType, bookingId: payload?.booking.id, bookingStatus: payload?.booking.status };
}

/** Every event of one provider's bookings, as the provider's owner. */
export function listenToProvider(client: Client, providerId: string, label: string): Listener {
  return new Listener("providerBookingEvents", providerId, label, client, PROVIDER_BOOKING_EVENTS, { providerId }, (d) =>
    bookingEvent(d.providerBookingEvents as BookingEventPayload | undefined),
  );
}

/** One booking's status changes, as its customer. */
export function listenToBooking(client: Client, bookingId: string, label: string): Listener {
  return new Listener("bookingStatusChanged", bookingId, label, client, BOOKING_STATUS_CHANGED, { bookingId }, (d) =>
    bookingEvent(d.bookingStatusChanged as BookingEventPayload | undefined),
  );
}

/** A provider's slots changing status, anonymously (it is a public subscription). */
export function listenToSlots(client: Client, providerId: string, label: string): Listener {
  return new Listener("slotAvailabilityChanged", providerId, label, client, SLOT_AVAILABILITY_CHANGED, { providerId }, (d) => {
    const slot = (d.slotAvailabilityChanged as SlotEventPayload | undefined)?.slot;
    return { slotId: slot?.id, slotStatus: slot?.status, slotStartsAt: slot?.startsAt, slotEndsAt: slot?.endsAt };
  });
}

/**
 * Waits until the listeners have gone quiet: every listener has at least `expected(l)`
 * events and nothing arrived for `quietMs`, or nothing arrived for `idleMs` (some are
 * short), or `maxMs` passed. Bounded, so a lost event fails the demo instead of hanging it.
 */
export async function waitForQuiet(
  listeners: readonly Listener[],
  expected: (l: Listener) => number,
  opts: { quietMs?: number; idleMs?: number; maxMs?: number } = {},
): Promise<{ waitedMs: number }> {
  const { quietMs = 500, idleMs = 2_000, maxMs = 10_000 } = opts;
  const started = Date.now();
  const total = () => listeners.reduce((n, l) => n + l.events.length + l.errors.length, 0);
  let last = total();
  let lastChange = Date.now();
  for (;;) {
    await sleep(100);
    const now = Date.now();
    const t = total();
    if (t !== last) {
      last = t;
      lastChange = now;
    }
    const allThere = listeners.every((l) => l.events.length >= expected(l));
    if (allThere && now - lastChange >= quietMs) break;
    if (now - lastChange >= idleMs || now - started >= maxMs) break;
  }
  return { waitedMs: Date.now() - started };
}
