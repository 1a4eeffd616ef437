import { randomBytes, randomUUID } from "node:crypto";
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { inArray } from "drizzle-orm";
import { loadConfig } from "../../src/config";
import { outbox } from "../../src/db/schema";
import { EMULATOR_CREDENTIALS, createSqsClient } from "../../src/events/queue-setup";
import { startServer } from "../../src/server";
import type { Viewer } from "../../src/services";
import { distribution, type Distribution } from "./stats";

export interface LatencyResult {
  bookings: number;
  ratePerSecond: number;
  /** Events the bookings wrote (auto-confirmed bookings write two). */
  events: number;
  received: number;
  missing: number;
  failedBookings: number;
  /** outbox.created_at (transaction start, so a slight over-estimate) to receipt by the consumer. */
  commitToQueue: Distribution;
  /** createBooking() call duration, for context. */
  serviceCall: Distribution;
  relayPollIntervalMs: number;
  consumers: number;
}

const CONSUMERS = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * A real server (relay on, embedded emulator, woken after each commit) takes `bookings`
 * bookings through its services at a steady rate, half on a provider that auto-confirms.
 * Consumers long-poll the events queue and note when each event id arrives.
 */
export async function measureLatency(databaseUrl: string, opts: { bookings: number; ratePerSecond: number; deadlineMs: number }): Promise<LatencyResult> {
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: "10",
    JWT_SECRET: randomBytes(32).toString("hex"),
    OUTBOX_RELAY: "on",
    SQS_EMULATOR_PORT: "0",
    LOG_LEVEL: "silent",
  });
  const server = await startServer(config);
  const emulator = server.relay?.emulator;
  if (!emulator) throw new Error("the server did not start its embedded SQS emulator");
  const sqs = createSqsClient({ region: config.aws.region, endpoint: emulator.endpoint, credentials: EMULATOR_CREDENTIALS });
  const stopAt = Date.now() + opts.deadlineMs;
  let consuming = true;
  const receivedAt = new Map<string, number>();
  let consumers: Promise<void>[] = [];
  try {
    const { services } = server;
    const register = async (role: "CUSTOMER" | "PROVIDER"): Promise<Viewer> => {
      const { user } = await services.auth.register({ email: `${role.toLowerCase()}-${randomUUID()}@bench.test`, password: randomUUID(), name: `${role} bench`, role });
      return { userId: user.id, role: user.role };
    };
    const customers = await Promise.all(Array.from({ length: 5 }, () => register("CUSTOMER")));
    const slots: { slotId: string; events: number }[] = [];
    for (const requiresConfirmation of [true, false]) {
      const owner = await register("PROVIDER");
      const provider = await services.provider.createProvider(owner, { name: `Bench ${requiresConfirmation ? "manual" : "auto"}`, timeZone: "UTC", requiresConfirmation });
      const count = requiresConfirmation ? Math.ceil(opts.bookings / 2) : Math.floor(opts.bookings / 2);
      if (count === 0) continue;
      const startsAt = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 24 * 3_600_000);
      const created = await services.provider.addAvailability(owner, { providerId: provider.id, startsAt, endsAt: new Date(startsAt.getTime() + count * 15 * 60_000), slotMinutes: 15 });
      slots.push(...created.map((s) => ({ slotId: s.id, events: requiresConfirmation ? 1 : 2 })));
    }
    // Interleave manual and auto-confirm bookings.
    slots.sort((a, b) => a.slotId.localeCompare(b.slotId));

    const consumer = async () => {
      while (consuming && Date.now() < stopAt) {
        const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: emulator.queueUrls.bookingEvents, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        const at = Date.now();
        const messages = res.Messages ?? [];
        if (messages.length === 0) continue;
        for (const m of messages) receivedAt.set((JSON.parse(m.Body!) as { eventId: string }).eventId, at);
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: emulator.queueUrls.bookingEvents, Entries: messages.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle! })) }));
      }
    };
    consumers = Array.from({ length: CONSUMERS }, consumer);

    const bookingIds: string[] = [];
    const callMs: number[] = [];
    let failedBookings = 0;
    const inFlight: Promise<void>[] = [];
    const interval = 1000 / opts.ratePerSecond;
    const t0 = Date.now() + 200;
    for (let i = 0; i < slots.length && Date.now() < stopAt; i++) {
      await sleep(t0 + i * interval - Date.now());
      const started = performance.now();
      inFlight.push(
        services.bookingCreate.createBooking(customers[i % customers.length]!, { slotId: slots[i]!.slotId }).then(
          ({ booking }) => {
            callMs.push(performance.now() - started);
            bookingIds.push(booking.id);
          },
          () => {
            failedBookings++;
          },
        ),
      );
    }
    await Promise.all(inFlight);
    const expectedEvents = slots.reduce((n, s) => n + s.events, 0);
    // Bounded wait for the tail: every event arrived, or 30 s passed.
    const tailDeadline = Math.min(stopAt, Date.now() + 30_000);
    while (receivedAt.size < expectedEvents && Date.now() < tailDeadline) await sleep(50);
    consuming = false;
    await Promise.all(consumers);

    const rows = bookingIds.length
      ? await server.database.db.select({ eventId: outbox.eventId, createdAt: outbox.createdAt }).from(outbox).where(inArray(outbox.bookingId, bookingIds))
      : [];
    const samples = rows.filter((r) => receivedAt.has(r.eventId)).map((r) => receivedAt.get(r.eventId)! - r.createdAt.getTime());
    return {
      bookings: slots.length,
      ratePerSecond: opts.ratePerSecond,
      events: rows.length,
      received: samples.length,
      missing: expectedEvents - samples.length,
      failedBookings,
      commitToQueue: distribution(samples),
      serviceCall: distribution(callMs),
      relayPollIntervalMs: config.outboxRelayPollMs,
      consumers: CONSUMERS,
    };
  } finally {
    consuming = false;
    await Promise.allSettled(consumers);
    sqs.destroy();
    await server.stop();
  }
}
