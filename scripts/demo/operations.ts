import type { ScheduleRules as DomainScheduleRules } from "../../src/domain/schedule";
/**
 * The GraphQL operations the demo sends, written out as a client of the public contract
 * would (the demo does not share the test suite's generated documents).
 */

export type BookingStatus = "PENDING" | "CONFIRMED" | "REJECTED" | "CANCELLED" | "EXPIRED";
export type BookingEventType =
  | "BOOKING_CREATED"
  | "BOOKING_CONFIRMED"
  | "BOOKING_REJECTED"
  | "BOOKING_CANCELLED"
  | "BOOKING_EXPIRED"
  | "BOOKING_RESCHEDULED"
  | "BOOKING_REMINDER";
export type SlotStatus = "AVAILABLE" | "HELD" | "BOOKED" | "BLOCKED";

export const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterInput!) {
    register(input: $input) { accessToken user { id email role } }
  }`;
export interface RegisterData {
  register: { accessToken: string; user: { id: string; email: string; role: string } };
}

export const CREATE_PROVIDER = /* GraphQL */ `
  mutation CreateProvider($input: CreateProviderInput!) {
    createProvider(input: $input) { id name timeZone requiresConfirmation }
  }`;
export interface CreateProviderData {
  createProvider: { id: string; name: string; timeZone: string; requiresConfirmation: boolean };
}

export const ADD_AVAILABILITY = /* GraphQL */ `
  mutation AddAvailability($input: AddAvailabilityInput!) {
    addAvailability(input: $input) { id startsAt endsAt status }
  }`;
export interface AddAvailabilityData {
  addAvailability: { id: string; startsAt: string; endsAt: string; status: SlotStatus }[];
}

export const CREATE_BOOKING = /* GraphQL */ `
  mutation CreateBooking($input: CreateBookingInput!) {
    createBooking(input: $input) { id status slot { id } provider { id } customer { id } }
  }`;
export interface CreateBookingData {
  createBooking: { id: string; status: BookingStatus; slot: { id: string }; provider: { id: string }; customer: { id: string } };
}

export const ACCEPT_BOOKING = /* GraphQL */ `
  mutation AcceptBooking($id: ID!) {
    acceptBooking(id: $id) { id status }
  }`;
export interface AcceptBookingData {
  acceptBooking: { id: string; status: BookingStatus };
}

export const REJECT_BOOKING = /* GraphQL */ `
  mutation RejectBooking($id: ID!, $reason: String) {
    rejectBooking(id: $id, reason: $reason) { id status reason }
  }`;
export interface RejectBookingData {
  rejectBooking: { id: string; status: BookingStatus; reason: string | null };
}

export const CANCEL_BOOKING = /* GraphQL */ `
  mutation CancelBooking($id: ID!, $reason: String) {
    cancelBooking(id: $id, reason: $reason) { id status reason }
  }`;
export interface CancelBookingData {
  cancelBooking: { id: string; status: BookingStatus; reason: string | null };
}

export const PROVIDER_BOOKINGS = /* GraphQL */ `
  query ProviderBookings($providerId: ID!, $first: Int, $after: String) {
    providerBookings(providerId: $providerId, first: $first, after: $after) {
      edges { node { id status slot { id status } customer { id } history { fromStatus toStatus reason } } }
      pageInfo { hasNextPage endCursor }
    }
  }`;
export interface ServerBooking {
  id: string;
  status: BookingStatus;
  slot: { id: string; status: SlotStatus };
  customer: { id: string };
  history: { fromStatus: BookingStatus | null; toStatus: BookingStatus; reason: string | null }[];
}
export interface ProviderBookingsData {
  providerBookings: { edges: { node: ServerBooking }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

export const PROVIDER_BOOKING_EVENTS = /* GraphQL */ `
  subscription ProviderBookingEvents($providerId: ID!) {
    providerBookingEvents(providerId: $providerId) { eventId eventType previousStatus booking { id status } }
  }`;

export const BOOKING_STATUS_CHANGED = /* GraphQL */ `
  subscription BookingStatusChanged($bookingId: ID!) {
    bookingStatusChanged(bookingId: $bookingId) { eventId eventType previousStatus booking { id status } }
  }`;

/** Payload of both booking subscriptions. */
export interface BookingEventPayload {
  eventId: string;
  eventType: BookingEventType;
  previousStatus: BookingStatus | null;
  booking: { id: string; status: BookingStatus };
}

export const SLOT_AVAILABILITY_CHANGED = /* GraphQL */ `
  subscription SlotAvailabilityChanged($providerId: ID!) {
    slotAvailabilityChanged(providerId: $providerId) { slot { id status startsAt endsAt } }
  }`;
export interface SlotEventPayload {
  slot: { id: string; status: SlotStatus; startsAt: string; endsAt: string };
}

export const SET_SCHEDULE = /* GraphQL */ `
  mutation SetSchedule($input: SetScheduleInput!) {
    setSchedule(input: $input) {
      slotMinutes bufferMinutes minimumNoticeMinutes horizonDays
      weekly { weekday startTime endTime }
      overrides { date windows { startTime endTime } }
    }
  }`;
// The wire shapes of schedule windows are the domain's own (the demo already imports src/).
export type { DateOverride, TimeWindow, WeeklyWindow } from "../../src/domain/schedule";
/** Both SetScheduleInput (less providerId) and the Schedule the server answers: the domain's rules less the zone (the provider's). */
export type ScheduleRules = Omit<DomainScheduleRules, "timeZone">;
export interface SetScheduleData {
  setSchedule: ScheduleRules;
}

export const AVAILABLE_SLOTS = /* GraphQL */ `
  query AvailableSlots($providerId: ID!, $from: DateTimeISO!, $to: DateTimeISO!) {
    availableSlots(providerId: $providerId, from: $from, to: $to) { id startsAt endsAt status }
  }`;
export interface AvailableSlotsData {
  availableSlots: { id: string; startsAt: string; endsAt: string; status: SlotStatus }[];
}

export const RESCHEDULE_BOOKING = /* GraphQL */ `
  mutation RescheduleBooking($id: ID!, $slotId: ID!) {
    rescheduleBooking(id: $id, slotId: $slotId) { id status slot { id startsAt } holdExpiresAt }
  }`;
export interface RescheduleBookingData {
  rescheduleBooking: { id: string; status: BookingStatus; slot: { id: string; startsAt: string }; holdExpiresAt: string | null };
}

export const CREATE_WEBHOOK_ENDPOINT = /* GraphQL */ `
  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) { secret endpoint { id url enabled eventTypes } }
  }`;
export interface CreateWebhookEndpointData {
  createWebhookEndpoint: { secret: string; endpoint: { id: string; url: string; enabled: boolean; eventTypes: BookingEventType[] } };
}
