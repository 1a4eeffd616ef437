import { randomUUID } from "node:crypto";
import { CreateQueueCommand, SetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { ManualClock } from "../../src/domain/clock";
import type { BookingEventEnvelope } from "../../src/events/envelope";
import { OutboxRelay } from "../../src/events/outbox-relay";
import { toBatchEntry } from "../../src/events/sqs-routing";
import { AcceptBookingDocument, RejectBookingDocument } from "../generated/graphql";
import { bookSlot } from "../support/factories";
import { executeOk } from "../support/graphql-client";
import { drainQueue, expectEachOnce, openMarket, outboxRows, silentLog, useRelayServer } from "../support/outbox-relay-world";

// Partial failures: a row is published only when every queue it routes to accepted it; a
// queue that accepted is never sent the event again; refused entries are retried later.
// The relays run on a hand-moved clock so "later" (past each row's backoff) is exact.

// Servers, argon2 hashes and an emulator on two cores shared with other suites: generous limits, never asserted on.
jest.setTimeout(180_000);

const world = useRelayServer();

const BACKOFF = { backoffBaseMs: 100, backoffMaxMs: 1_000 };

test("one target queue failing keeps the row unpublished, the queue that accepted gets it once, and fixed routing completes it", async () => {
  const { available, server, emu } = world;
  if (!available || !server || !emu) return;
  const db = server.database.db;
  const queues = await emu.queues();
  const missingQueue = queues.bookingRequest.replace(/[^/]+$/, `no-such-queue-${randomUUID().slice(0, 8)}`);
  const { customers, providers } = await openMarket(server.url, { customers: 1, providers: [{ requiresConfirmation: true }], slotsEach: 1 });
  const provider = providers[0]!;
  const booking = await bookSlot(server.url, customers[0]!, provider.slots[0]!.id);

  const clock = new ManualClock(new Date());
  const broken = new OutboxRelay(db, emu.sqs, { bookingRequest: missingQueue, bookingEvents: queues.bookingEvents }, clock, silentLog, BACKOFF);
  for (let round = 0; round < 3; round++) {
    expect(await broken.relayRound()).toEqual({ claimed: 1, published: 0, failed: 1 });
    const [row] = await outboxRows(db, [booking.id]);
    expect(row).toMatchObject({ publishedAt: null, deliveredQueues: [queues.bookingEvents], attempts: round + 1 });
    expect(row!.lastError).toMatch(/QueueDoesNotExist|does not exist/i);
    clock.advance(BACKOFF.backoffMaxMs + 1);
  }
  expect(broken.status().lastError).toMatch(/QueueDoesNotExist|does not exist/i);

  // The booking's next event waits behind the unfinished one.
  await executeOk(server.url, AcceptBookingDocument, { id: booking.id }, provider.owner.token);
  expect(await broken.relayRound()).toMatchObject({ claimed: 1, published: 0 });
  clock.advance(BACKOFF.backoffMaxMs + 1);

  const [created, confirmed] = await outboxRows(db, [booking.id]);
  expect(confirmed).toMatchObject({ eventType: "BOOKING_CONFIRMED", publishedAt: null, attempts: 0 });
  // Three rounds (and in-round retries) later, the queue that accepted holds the event once.
  expectEachOnce(await drainQueue(emu.sqs, queues.bookingEvents, { expected: 1 }), [created!]);

  const fixed = new OutboxRelay(db, emu.sqs, queues, clock, silentLog, BACKOFF);
  await fixed.drain();
  const rows = await outboxRows(db, [booking.id]);
  expect(rows.filter((r) => r.publishedAt === null)).toEqual([]);
  expect(rows.map((r) => r.lastError)).toEqual([null, null]);
  expectEachOnce(await drainQueue(emu.sqs, queues.bookingRequest, { expected: 1 }), [created!]);
  expectEachOnce(await drainQueue(emu.sqs, queues.bookingConfirmation, { expected: 1 }), [confirmed!]);
  // Not the CREATED event again: only what it had not received yet.
  expectEachOnce(await drainQueue(emu.sqs, queues.bookingEvents, { expected: 1 }), [confirmed!]);
});

test("entries a batch reports as Failed stay unpublished and are retried; the rest of the batch is not resent", async () => {
  const { available, server, emu } = world;
  if (!available || !server || !emu) return;
  const db = server.database.db;
  // A queue that refuses messages over 1 KiB: long rejection reasons do not fit, the rest does.
  const { QueueUrl: tiny } = await emu.sqs.send(
    new CreateQueueCommand({ QueueName: `tiny-${randomUUID().slice(0, 8)}`, Attributes: { MaximumMessageSize: "1024" } }),
  );
  const { customers, providers } = await openMarket(server.url, { customers: 2, providers: [{ requiresConfirmation: true }], slotsEach: 6 });
  const [owner, slots] = [providers[0]!.owner, providers[0]!.slots];
  const clock = new ManualClock(new Date());
  const relay = new OutboxRelay(db, emu.sqs, { bookingEvents: tiny! }, clock, silentLog, BACKOFF);

  const rejectedLater = await Promise.all([0, 1, 2].map((k) => bookSlot(server!.url, customers[0]!, slots[k]!.id)));
  expect(await relay.relayRound()).toEqual({ claimed: 3, published: 3, failed: 0 });
  const longReason = `Rejected: ${"x".repeat(490)}`;
  for (const b of rejectedLater) await executeOk(server.url, RejectBookingDocument, { id: b.id, reason: longReason }, owner.token);
  const fresh = await Promise.all([3, 4, 5].map((k) => bookSlot(server!.url, customers[1]!, slots[k]!.id)));

  const rows = await outboxRows(db, [...rejectedLater, ...fresh].map((b) => b.id));
  const big = rows.filter((r) => r.eventType === "BOOKING_REJECTED");
  // SQS counts body plus attribute names, types and values against MaximumMessageSize.
  const size = (r: (typeof rows)[number]) => {
    const entry = toBatchEntry("1", r.payload as BookingEventEnvelope, tiny!);
    const attrs = Object.entries(entry.MessageAttributes!).map(([k, v]) => k + v.DataType + v.StringValue);
    return Buffer.byteLength(entry.MessageBody! + attrs.join(""));
  };
  // Preconditions of the scenario, not of the relay.
  expect(big.every((r) => size(r) > 1024)).toBe(true);
  expect(rows.filter((r) => r.eventType === "BOOKING_CREATED").every((r) => size(r) < 1024)).toBe(true);

  // One batch of six to one queue: three accepted, three refused by the queue.
  expect(await relay.relayRound()).toEqual({ claimed: 6, published: 3, failed: 3 });
  clock.advance(BACKOFF.backoffMaxMs + 1);
  expect(await relay.relayRound()).toEqual({ claimed: 3, published: 0, failed: 3 });
  const held = await outboxRows(db, big.map((r) => r.bookingId));
  for (const r of held.filter((x) => x.eventType === "BOOKING_REJECTED")) {
    expect(r).toMatchObject({ publishedAt: null, deliveredQueues: [], attempts: 2 });
    expect(r.lastError).toMatch(/shorter than 1024 bytes/);
  }

  await emu.sqs.send(new SetQueueAttributesCommand({ QueueUrl: tiny, Attributes: { MaximumMessageSize: "262144" } }));
  clock.advance(BACKOFF.backoffMaxMs + 1);
  await relay.drain();
  const final = await outboxRows(db, [...rejectedLater, ...fresh].map((b) => b.id));
  expect(final.filter((r) => r.publishedAt === null)).toEqual([]);
  expectEachOnce(await drainQueue(emu.sqs, tiny!, { expected: final.length }), final);
});

// Regression: a reason holding a character SQS refuses in a body (U+FFFF: AWS SQS and the
// emulator; an emoji: fauxqs 1.9 only) used to make every send of that event fail forever.
// Escaping such characters as JSON \u sequences keeps the body valid JSON with the same value.
test("an event whose text holds characters SQS refuses in a body still reaches the queue with the same envelope", async () => {
  const { available, server, emu } = world;
  if (!available || !server || !emu) return;
  const db = server.database.db;
  const queues = await emu.queues();
  const { customers, providers } = await openMarket(server.url, { customers: 1, providers: [{ requiresConfirmation: true }], slotsEach: 2 });
  const reasons = ["closed \uFFFF today", "sorry \u{1F600}"];
  const bookings = await Promise.all(reasons.map((_, k) => bookSlot(server!.url, customers[0]!, providers[0]!.slots[k]!.id)));
  for (const [k, b] of bookings.entries()) {
    await executeOk(server.url, RejectBookingDocument, { id: b.id, reason: reasons[k] }, providers[0]!.owner.token);
  }
  const clock = new ManualClock(new Date());
  const relay = new OutboxRelay(db, emu.sqs, queues, clock, silentLog, BACKOFF);
  for (let round = 0; round < 4; round++) {
    await relay.drain();
    clock.advance(BACKOFF.backoffMaxMs + 1);
  }
  const rows = await outboxRows(db, bookings.map((b) => b.id));
  expect(rows.filter((r) => r.publishedAt === null).map((r) => r.lastError)).toEqual([]);
  const received = await drainQueue(emu.sqs, queues.bookingEvents, { expected: rows.length });
  expectEachOnce(received, rows);
  expect(received.filter((m) => m.envelope.eventType === "BOOKING_REJECTED").map((m) => m.envelope.reason).sort()).toEqual([...reasons].sort());
});
