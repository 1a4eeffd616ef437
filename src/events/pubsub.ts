import { Repeater, SlidingBuffer } from "@graphql-yoga/subscription";
import { PubSub as InMemoryPubSubEngine, type PubSubEngine } from "graphql-subscriptions";
import type { SlotStatus } from "../domain/enums";
import type { BookingEventEnvelope } from "./envelope";

/** A booking as carried in live payloads; instants are ISO-8601 UTC strings. */
export interface BookingSnapshot {
  id: string;
  status: BookingEventEnvelope["status"];
  slotId: string;
  providerId: string;
  customerId: string;
  createdAt: string;
  updatedAt: string;
  holdExpiresAt: string | null;
  reason: string | null;
}

/** A slot as carried in live payloads. */
export interface SlotSnapshot {
  id: string;
  providerId: string;
  startsAt: string;
  endsAt: string;
  status: SlotStatus;
}

export interface BookingEventMessage {
  event: BookingEventEnvelope;
  booking: BookingSnapshot;
}

export interface SlotEventMessage {
  slot: SlotSnapshot;
}

/**
 * Sessions that stopped being valid (logout, a replayed refresh token, a role or password
 * changed by an admin command, an account removed): every instance closes its live sockets
 * authenticated by one of them.
 */
export interface SessionRevocationMessage {
  /** Revoked sessions. */
  sessionIds: string[];
  /** Accounts all of whose sessions were revoked. */
  userIds: string[];
}

/** The one id of the `SESSION_REVOCATIONS` topic: every instance hears every revocation. */
export const ALL_SESSIONS = "all";

/**
 * The typed topic map: each topic is published per id (booking id or provider id),
 * and every payload is a plain JSON object so Redis can carry it unchanged.
 */
export interface TopicMap {
  /** Keyed by booking id. */
  BOOKING_EVENTS: BookingEventMessage;
  /** Keyed by provider id. */
  PROVIDER_BOOKING_EVENTS: BookingEventMessage;
  /** Keyed by provider id. */
  SLOT_EVENTS: SlotEventMessage;
  /** Keyed by {@link ALL_SESSIONS}. */
  SESSION_REVOCATIONS: SessionRevocationMessage;
}
export type Topic = keyof TopicMap;

/** Channel name on the wire (Redis channel or in-memory trigger). */
export function channelName(topic: Topic, id: string): string {
  return `slotwise:${topic}:${id}`;
}

// Bounded per subscriber: a stalled client loses its oldest unread events rather than
// growing memory without limit or throwing (Repeater's unbuffered overflow at 1024).
const SUBSCRIBER_BUFFER = 1024;

/**
 * Pub/sub for live updates, also usable as type-graphql's `PubSub`. Wraps a
 * graphql-subscriptions `PubSubEngine` (in-memory or Redis); each `subscribe` is a
 * Repeater that releases its engine subscription as soon as the consumer stops.
 */
export class LivePubSub {
  constructor(
    private readonly engine: PubSubEngine,
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {}

  /** Publishes to one topic instance. Rejects when the transport (Redis) fails. */
  publishTopic<K extends Topic>(topic: K, id: string, payload: TopicMap[K]): Promise<void> {
    return this.engine.publish(channelName(topic, id), payload);
  }

  /** Follows one topic instance until the returned iterable is closed. */
  subscribeTopic<K extends Topic>(topic: K, id: string): AsyncIterableIterator<TopicMap[K]> {
    return this.subscribe(channelName(topic, id));
  }

  /** type-graphql `PubSub` interface. */
  publish(routingKey: string, ...args: unknown[]): void {
    // This interface returns nothing, so nobody could handle a failure here and an unhandled
    // rejection would end the process; callers that need to know use publishTopic.
    this.engine.publish(routingKey, args[0]).catch(() => undefined);
  }

  /** type-graphql `PubSub` interface; `dynamicId` is appended to the key. */
  subscribe<T = never>(routingKey: string, dynamicId?: unknown): AsyncIterableIterator<T> {
    const channel = dynamicId === undefined ? routingKey : `${routingKey}:${String(dynamicId)}`;
    return new Repeater<T>(async (push, stop) => {
      const subId = await this.engine.subscribe(channel, (payload: T) => void push(payload), {});
      await stop;
      this.engine.unsubscribe(subId);
    }, new SlidingBuffer(SUBSCRIBER_BUFFER));
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

/** In-process pub/sub: the embedded default, for a single instance. */
export function createInMemoryPubSub(): LivePubSub {
  return new LivePubSub(new InMemoryPubSubEngine());
}
