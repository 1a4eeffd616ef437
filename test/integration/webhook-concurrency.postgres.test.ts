import pino from "pino";
import { openDatabase, type Database } from "../../src/db/client";
import { webhookDeliveries } from "../../src/db/schema";
import { systemClock } from "../../src/domain/clock";
import { WebhookService } from "../../src/services/webhook.service";
import { WebhookDeliveryWorker } from "../../src/workers/webhook-delivery.worker";
import { createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { WebhookReceiver } from "../support/webhook-receiver";
import { makeWorld } from "../support/service-world";
import { bookSlot, providerWithSlots, registerUser } from "../support/service-factories";
import { waitFor } from "../support/wait";

/**
 * Three delivery workers, each with its own connection pool, on real PostgreSQL (PGlite would
 * serialise them), while bookings change and a flaky receiver refuses a third of the requests:
 * every event is delivered, and per booking the accepted requests come in commit order.
 */

jest.setTimeout(180_000);

const BOOKINGS = 12;
let available = false;
let pg: TestDatabase | undefined;
const databases: Database[] = [];

beforeAll(async () => {
  available = await requireService("postgres");
  if (!available) return;
  pg = await createPostgresDatabase();
});
afterAll(async () => {
  for (const d of databases) await d.close();
  await pg?.drop();
});

test("several workers keep per-booking order and lose nothing under failures", async () => {
  if (!available) return;
  const open = async () => databases[databases.push(await openDatabase({ databaseUrl: pg!.url, pgliteDir: "memory://", poolMax: 4 })) - 1]!;
  const main = await open();
  await main.migrate();
  const w = makeWorld(main.db, new Date());
  const start = new Date(Math.ceil((Date.now() + 86_400_000) / 3_600_000) * 3_600_000);
  const { owner, providerId, slots } = await providerWithSlots(w, { count: BOOKINGS, start: start });
  const customers = await Promise.all(Array.from({ length: BOOKINGS }, () => registerUser(w, "CUSTOMER")));

  let n = 0;
  const receiver = await new WebhookReceiver(() => (n++ % 3 === 1 ? { status: 500 } : { status: 200 })).up();
  const accepted: { bookingId: string; eventType: string; eventId: string }[] = [];
  const respond = receiver.respond;
  receiver.respond = (req, i) => {
    const b = respond(req, i);
    if (b !== "hang" && b.status === 200) accepted.push({ bookingId: req.event.bookingId, eventType: req.event.eventType, eventId: req.event.eventId });
    return b;
  };
  try {
    await new WebhookService({ db: main.db, clock: w.clock, policy: { requireHttps: false, allowLoopback: true, allowPrivateNetworks: false } }).createEndpoint(owner, { url: receiver.url, providerId });
    const config = { requireHttps: false, allowLoopback: true, allowPrivateNetworks: false, delivery: true, retryScheduleMs: Array(12).fill(20), timeoutMs: 2_000, disableAfterMs: 3_600_000, pollMs: 20 };
    const workers = await Promise.all([0, 1, 2].map(async () => new WebhookDeliveryWorker((await open()).db, systemClock, config, pino({ level: "silent" }))));
    // Half the bookings change before the workers start (their three events wait together), half while they run.
    const ids: string[] = [];
    const history = async (from: number, to: number) => {
      for (let i = from; i < to; i++) ids.push((await bookSlot(w, customers[i]!, slots[i]!.id)).id);
      for (let i = from; i < to; i++) await w.services.bookingTransition.acceptBooking(owner, ids[i]!);
      for (let i = from; i < to; i++) await w.services.bookingTransition.cancelBooking(customers[i]!, ids[i]!);
    };
    await history(0, BOOKINGS / 2);
    for (const x of workers) x.start();
    try {
      await history(BOOKINGS / 2, BOOKINGS);

      await waitFor("every delivery settled", async () => {
        const rows = await main.db.select({ status: webhookDeliveries.status }).from(webhookDeliveries);
        return rows.length === BOOKINGS * 3 && rows.every((r) => r.status === "SUCCEEDED");
      }, { timeoutMs: 120_000 });
      for (const id of ids) {
        expect(accepted.filter((a) => a.bookingId === id).map((a) => a.eventType)).toEqual(["BOOKING_CREATED", "BOOKING_CONFIRMED", "BOOKING_CANCELLED"]);
      }
      expect(receiver.received.length).toBeGreaterThan(BOOKINGS * 3); // some were refused and retried
    } finally {
      await Promise.all(workers.map((x) => x.stop()));
    }
  } finally {
    await receiver.down();
  }
});
