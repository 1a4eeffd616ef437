import { randomUUID } from "node:crypto";
import type { Db } from "../../src/db/client";
import { buildEnvelope, type BookingEventEnvelope } from "../../src/events/envelope";
import { appendToOutbox } from "../../src/events/outbox";
import { queuesFor, type QueueRoutes } from "../../src/events/sqs-routing";

/** Deterministic PRNG (mulberry32), so two runs insert the same shape of workload. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type EventType = BookingEventEnvelope["eventType"];
type Status = BookingEventEnvelope["status"];

/** Lifecycles and how often each occurs: 1.85 events per booking on average. */
const LIFECYCLES: { weight: number; steps: { type: EventType; status: Status }[] }[] = [
  { weight: 0.3, steps: [{ type: "BOOKING_CREATED", status: "PENDING" }] },
  { weight: 0.3, steps: [{ type: "BOOKING_CREATED", status: "PENDING" }, { type: "BOOKING_CONFIRMED", status: "CONFIRMED" }] },
  { weight: 0.15, steps: [{ type: "BOOKING_CREATED", status: "PENDING" }, { type: "BOOKING_REJECTED", status: "REJECTED" }] },
  {
    weight: 0.15,
    steps: [
      { type: "BOOKING_CREATED", status: "PENDING" },
      { type: "BOOKING_CONFIRMED", status: "CONFIRMED" },
      { type: "BOOKING_CANCELLED", status: "CANCELLED" },
    ],
  },
  { weight: 0.1, steps: [{ type: "BOOKING_CREATED", status: "PENDING" }, { type: "BOOKING_CANCELLED", status: "CANCELLED" }] },
];

function pickLifecycle(r: number) {
  let acc = 0;
  for (const l of LIFECYCLES) {
    acc += l.weight;
    if (r < acc) return l;
  }
  return LIFECYCLES[LIFECYCLES.length - 1]!;
}

/**
 * `count` realistic envelopes for many distinct bookings (about count / 1.85), in a
 * commit-like order: bookings start at random moments and their later events follow
 * shortly after, interleaved with other bookings' events.
 */
export function generateEnvelopes(count: number, seed = 42): BookingEventEnvelope[] {
  const random = seededRandom(seed);
  const providers = Array.from({ length: 50 }, () => randomUUID());
  const customers = Array.from({ length: 1000 }, () => randomUUID());
  const base = Date.UTC(2031, 2, 10, 8);
  const timed: { t: number; e: BookingEventEnvelope }[] = [];
  while (timed.length < count) {
    const life = pickLifecycle(random());
    const start = new Date(base + Math.floor(random() * 14 * 24) * 3_600_000);
    const source = {
      booking: { id: randomUUID(), providerId: providers[Math.floor(random() * providers.length)]!, slotId: randomUUID(), customerId: customers[Math.floor(random() * customers.length)]!, status: "PENDING" as Status },
      slot: { startsAt: start, endsAt: new Date(start.getTime() + 30 * 60_000) },
    };
    let t = random();
    let previous: Status | null = null;
    for (const step of life.steps) {
      if (timed.length >= count) break;
      source.booking.status = step.status;
      const at = new Date(base - 86_400_000 + Math.floor(t * 86_400_000));
      const reason = step.type === "BOOKING_REJECTED" || step.type === "BOOKING_CANCELLED" ? "The provider is unavailable at that time" : null;
      const actorId = step.type === "BOOKING_CREATED" || step.type === "BOOKING_CANCELLED" ? source.booking.customerId : randomUUID();
      timed.push({ t, e: buildEnvelope(step.type, source, { at, previousStatus: previous, actorId, reason }) });
      previous = step.status;
      t += random() * 0.01;
    }
  }
  return timed.sort((a, b) => a.t - b.t).map((x) => x.e);
}

/** Inserts envelopes as unpublished outbox rows, in order, `chunk` rows per statement. */
export async function insertOutbox(db: Db, envelopes: readonly BookingEventEnvelope[], chunk = 1_000): Promise<void> {
  for (let i = 0; i < envelopes.length; i += chunk) await appendToOutbox(db, envelopes.slice(i, i + chunk));
}

/** How many SQS messages the envelopes make with `routes` (BOOKING_CREATED/CONFIRMED go to two queues). */
export function messagesFor(envelopes: readonly BookingEventEnvelope[], routes: QueueRoutes): number {
  return envelopes.reduce((n, e) => n + queuesFor(e.eventType, routes).length, 0);
}
