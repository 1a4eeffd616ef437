import { randomUUID } from "node:crypto";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { asc, inArray } from "drizzle-orm";
import { parse } from "graphql";
import pino from "pino";
import type { Db } from "../../src/db/client";
import { outbox, type OutboxRow } from "../../src/db/schema";
import { bookingEventEnvelopeSchema, type BookingEventEnvelope } from "../../src/events/envelope";
import { EMULATOR_CREDENTIALS, createSqsClient, ensureQueues, type QueueUrls } from "../../src/events/queue-setup";
import { startSqsEmulator, type SqsEmulator } from "../../src/events/sqs-emulator";
import { AcceptBookingDocument, CancelBookingDocument, LoginDocument, RejectBookingDocument } from "../generated/graphql";
import { createPostgresDatabase, requireService, type TestDatabase } from "./backends";
import { bookSlot, futureHour, providerWithSlots, registerUser, type TestUser } from "./factories";
import { executeOk } from "./graphql-client";
import { mapLimit } from "./map-limit";
import { REGION } from "./sqs";
import { startTestServer, type TestServer } from "./test-server";

/**
 * Shared harness of the outbox relay tests: an SQS emulator with per-test queues, a bounded
 * queue drain, the admin status query, and bookings made over GraphQL.
 */

export const silentLog = pino({ level: "silent" });
export const ADMIN = { email: `admin-${randomUUID()}@example.test`, password: `admin-pw-${randomUUID()}` };
export const ADMIN_ENV = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };

/**
 * A server pointed at an external SQS endpoint builds its client from the SDK's default
 * credential chain, which reads these; the emulator accepts any.
 */
export function useEmulatorCredentialsInEnv(): void {
  process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey;
}

export interface Emulator {
  emulator: SqsEmulator;
  sqs: SQSClient;
  /** Fresh queues (with DLQs) under a unique prefix, so tests on one emulator never share a queue. */
  queues(opts?: { fifo?: boolean }): Promise<QueueUrls>;
  stop(): Promise<void>;
}

export async function startEmulator(): Promise<Emulator> {
  const emulator = await startSqsEmulator(0, REGION);
  const sqs = createSqsClient({ region: REGION, endpoint: emulator.endpoint, credentials: EMULATOR_CREDENTIALS });
  return {
    emulator,
    sqs,
    queues: (opts = {}) => ensureQueues(sqs, { fifo: opts.fifo, namePrefix: `t${randomUUID().slice(0, 8)}-` }),
    stop: async () => {
      sqs.destroy();
      await emulator.stop();
    },
  };
}

/** The env that points a server's relay at `queues` on an external endpoint (only the roles given). */
export function sqsEnv(endpoint: string, queues: Partial<QueueUrls>): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_REGION: REGION,
    ...(queues.bookingRequest ? { SQS_BOOKING_REQUEST_QUEUE_URL: queues.bookingRequest } : {}),
    ...(queues.bookingConfirmation ? { SQS_BOOKING_CONFIRMATION_QUEUE_URL: queues.bookingConfirmation } : {}),
    ...(queues.bookingEvents ? { SQS_BOOKING_EVENTS_QUEUE_URL: queues.bookingEvents } : {}),
  };
}

/** One message as a consumer sees it. */
export interface Received {
  body: string;
  envelope: BookingEventEnvelope;
  attrs: { eventType?: string; bookingId?: string; providerId?: string };
  groupId?: string;
  dedupId?: string;
}

function toReceived(m: Message): Received {
  const attr = (name: string) => m.MessageAttributes?.[name]?.StringValue;
  return {
    body: m.Body ?? "",
    // Validates the body against the published contract; a malformed body fails the test here.
    envelope: bookingEventEnvelopeSchema.parse(JSON.parse(m.Body ?? "null")),
    attrs: { eventType: attr("eventType"), bookingId: attr("bookingId"), providerId: attr("providerId") },
    groupId: m.Attributes?.MessageGroupId,
    dedupId: m.Attributes?.MessageDeduplicationId,
  };
}

/**
 * Reads and deletes everything on a queue, in receipt order. Stops after `idle` empty
 * long polls in a row (one, once `expected` messages were read, to catch extras), or after
 * `maxReceives` calls: always bounded.
 */
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  opts: { expected?: number; idle?: number; maxReceives?: number } = {},
): Promise<Received[]> {
  const out: Received[] = [];
  let empties = 0;
  for (let i = 0; i < (opts.maxReceives ?? 400); i++) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) {
      empties++;
      const enough = opts.expected !== undefined && out.length >= opts.expected ? 1 : (opts.idle ?? 2);
      if (empties >= enough) break;
      continue;
    }
    empties = 0;
    out.push(...messages.map(toReceived));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return out;
}

/** How many messages each event id has on one queue. */
export function countByEventId(messages: readonly Received[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m.envelope.eventId, (counts.get(m.envelope.eventId) ?? 0) + 1);
  return counts;
}

/** Asserts the queue holds exactly `expected` events, each once (order not considered). */
export function expectEachOnce(messages: readonly Received[], expected: readonly OutboxRow[]): void {
  const counts = countByEventId(messages);
  const duplicated = [...counts].filter(([, n]) => n > 1);
  expect(duplicated).toEqual([]);
  expect([...counts.keys()].sort()).toEqual(expected.map((r) => r.eventId).sort());
}

/** Asserts every booking's events arrived in outbox (commit) order. */
export function expectPerBookingOrder(messages: readonly Received[], rows: readonly OutboxRow[]): void {
  const seen = new Map<string, string[]>();
  for (const m of messages) seen.set(m.envelope.bookingId, [...(seen.get(m.envelope.bookingId) ?? []), m.envelope.eventId]);
  const committed = new Map<string, string[]>();
  for (const r of [...rows].sort((a, b) => a.id - b.id)) committed.set(r.bookingId, [...(committed.get(r.bookingId) ?? []), r.eventId]);
  const outOfOrder = [...committed].filter(([bookingId, ids]) => JSON.stringify(seen.get(bookingId) ?? []) !== JSON.stringify(ids));
  expect(outOfOrder).toEqual([]);
}

/** Outbox rows, in id (commit) order; optionally only those of the given bookings. */
export async function outboxRows(db: Db, bookingIds?: readonly string[]): Promise<OutboxRow[]> {
  const q = db.select().from(outbox);
  const rows = bookingIds ? await q.where(inArray(outbox.bookingId, [...bookingIds])).orderBy(asc(outbox.id)) : await q.orderBy(asc(outbox.id));
  return rows;
}

export interface OutboxStatusView {
  pending: number;
  oldestPendingAt: string | null;
  oldestPendingAgeSeconds: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  relayRunning: boolean;
  sentByThisInstance: number;
}

const OutboxStatusDocument = parse(
  "query OutboxStatus { outboxStatus { pending oldestPendingAt oldestPendingAgeSeconds lastError lastErrorAt relayRunning sentByThisInstance } }",
) as unknown as TypedDocumentNode<{ outboxStatus: OutboxStatusView }, Record<string, never>>;

/** Logs in as the admin the server was started with (ADMIN_ENV). */
export async function adminToken(url: string): Promise<string> {
  return (await executeOk(url, LoginDocument, { email: ADMIN.email, password: ADMIN.password })).login.accessToken;
}

export async function outboxStatus(url: string, token: string): Promise<OutboxStatusView> {
  return (await executeOk(url, OutboxStatusDocument, {}, token)).outboxStatus;
}

export interface Market {
  customers: TestUser[];
  providers: { owner: TestUser; id: string; requiresConfirmation: boolean; slots: { id: string }[] }[];
}

/** Providers with `slotsEach` slots and a few customers, all over GraphQL. */
export async function openMarket(
  url: string,
  opts: { customers: number; providers: { requiresConfirmation: boolean }[]; slotsEach: number },
): Promise<Market> {
  const customers = await mapLimit(Array.from({ length: opts.customers }), 4, () => registerUser(url, "CUSTOMER"));
  const providers = await mapLimit(opts.providers, 4, async (p, i) => {
    const { owner, providerId, slots } = await providerWithSlots(url, {
      requiresConfirmation: p.requiresConfirmation,
      count: opts.slotsEach,
      slotMinutes: 30,
      start: futureHour(24 + i),
    });
    return { owner, id: providerId, requiresConfirmation: p.requiresConfirmation, slots };
  });
  return { customers, providers };
}

export type Fate = "keep" | "accept" | "reject" | "cancel" | "accept-cancel";

/** Books slot `k` of `provider` and drives it through `fate`; returns the booking id. */
export async function bookAndDrive(url: string, market: Market, providerIndex: number, slotIndex: number, fate: Fate): Promise<string> {
  const provider = market.providers[providerIndex]!;
  const customer = market.customers[(providerIndex * 31 + slotIndex) % market.customers.length]!;
  const booking = await bookSlot(url, customer, provider.slots[slotIndex]!.id);
  const owner = provider.owner.token;
  if (provider.requiresConfirmation && (fate === "accept" || fate === "accept-cancel")) await executeOk(url, AcceptBookingDocument, { id: booking.id }, owner);
  if (provider.requiresConfirmation && fate === "reject") await executeOk(url, RejectBookingDocument, { id: booking.id, reason: "fully booked" }, owner);
  if (fate === "cancel" || fate === "accept-cancel") await executeOk(url, CancelBookingDocument, { id: booking.id, reason: "plans changed" }, customer.token);
  return booking.id;
}

/** A fate per booking index that mixes every transition. */
export function fateOf(i: number): Fate {
  return (["keep", "accept", "reject", "cancel", "accept-cancel"] as const)[i % 5]!;
}

/** What {@link useRelayServer} sets up; every part is set once `beforeAll` ran with PostgreSQL reachable. */
export interface RelayServerWorld {
  available: boolean;
  emu?: Emulator;
  database?: TestDatabase;
  server?: TestServer;
}

/**
 * Registers `beforeAll`/`afterAll` for a file whose tests drive OutboxRelay instances themselves:
 * an SQS emulator, a fresh PostgreSQL database, and a test server on it with its own relay off.
 * `available` stays false (the tests return early) when PostgreSQL is not there.
 */
export function useRelayServer(): RelayServerWorld {
  const world: RelayServerWorld = { available: false };
  beforeAll(async () => {
    world.available = await requireService("postgres");
    if (!world.available) return;
    world.emu = await startEmulator();
    world.database = await createPostgresDatabase();
    world.server = await startTestServer({ databaseUrl: world.database.url, env: { OUTBOX_RELAY: "off" } });
  });
  afterAll(async () => {
    await world.server?.close();
    await world.database?.drop();
    await world.emu?.stop();
  });
  return world;
}
