import { eq, inArray } from "drizzle-orm";
import pino from "pino";
import { hasPendingWebhookDeliveries, outboxWebhooksSettled } from "../../src/db/repositories/webhook-delivery.repository";
import { outbox, users, webhookDeliveries, webhookEndpoints } from "../../src/db/schema";
import { MAX_WEBHOOK_ENDPOINTS_PER_OWNER } from "../../src/domain/webhooks";
import { openWebhookSecret } from "../../src/domain/webhook-secret";
import { DEVELOPMENT_WEBHOOK_POLICY, WebhookService, type WebhookPolicy } from "../../src/services/webhook.service";
import { WebhookDeliveryWorker } from "../../src/workers/webhook-delivery.worker";
import { WebhookReceiver, verifies } from "../support/webhook-receiver";
import { BACKENDS, makeWorld, rejection, useBackend } from "../support/service-world";
import { providerWithSlots, registerUser } from "../support/service-factories";

/**
 * The webhook service and worker over both databases, below HTTP: the production URL policy
 * (https only, no loopback/private/link-local/metadata receivers), secrets sealed at rest, and the
 * delivery bookkeeping the event-log pruning relies on.
 */

const PRODUCTION: WebhookPolicy = { requireHttps: true, allowLoopback: false, allowPrivateNetworks: false, secretKey: "k".repeat(40) };
const WORKER_CONFIG = {
  ...PRODUCTION,
  requireHttps: false,
  allowLoopback: true,
  delivery: true,
  retryScheduleMs: [60_000],
  timeoutMs: 2_000,
  disableAfterMs: 86_400_000,
  pollMs: 50,
};
const silent = pino({ level: "silent" });

describe.each(BACKENDS)("webhook service on $name", (backend) => {
  const { it } = useBackend(backend);

  it("a provider's owner may create at most MAX_WEBHOOK_ENDPOINTS_PER_OWNER endpoints (the bound webhookEndpoints is costed by); the next is CONFLICT and writes nothing", async (db) => {
    const w = makeWorld(db);
    const owner = await registerUser(w, "PROVIDER");
    const promoted = await registerUser(w, "PROVIDER");
    await db.update(users).set({ role: "ADMIN" }).where(eq(users.id, promoted.userId));
    const admin = { ...promoted, role: "ADMIN" as const };
    const service = new WebhookService({ db, clock: w.clock, policy: DEVELOPMENT_WEBHOOK_POLICY });
    for (let i = 0; i < MAX_WEBHOOK_ENDPOINTS_PER_OWNER; i++) await service.createEndpoint(owner, { url: `http://127.0.0.1:9/hooks/${i}` });
    const err = await rejection(() => service.createEndpoint(owner, { url: "http://127.0.0.1:9/hooks/one-more" }));
    expect({ code: err.code, reason: err.reason }).toEqual({ code: "CONFLICT", reason: "WEBHOOK_ENDPOINT_LIMIT" });
    expect(await db.$count(webhookEndpoints, eq(webhookEndpoints.ownerId, owner.userId))).toBe(MAX_WEBHOOK_ENDPOINTS_PER_OWNER);
    expect(await service.listEndpoints(owner)).toHaveLength(MAX_WEBHOOK_ENDPOINTS_PER_OWNER);
    // Admins are not capped: they manage every endpoint, and their list is not bounded by it.
    await service.createEndpoint(admin, { url: "http://127.0.0.1:9/hooks/admin" });
    // Gone again: an admin-wide endpoint would receive the events of the tests after this one.
    await db.delete(webhookEndpoints).where(inArray(webhookEndpoints.ownerId, [owner.userId, admin.userId]));
  });

  it("production refuses http, loopback, private, link-local and metadata receivers with BAD_USER_INPUT, writing nothing", async (db) => {
    const w = makeWorld(db);
    const owner = await registerUser(w, "PROVIDER");
    const service = new WebhookService({ db, clock: w.clock, policy: PRODUCTION });
    const before = await db.$count(webhookEndpoints);
    const refused = [
      "not a url",
      "ftp://files.example.com/hook",
      "http://93.184.215.14/hook",
      "https://127.0.0.1/hook",
      "https://localhost:8443/hook",
      "https://[::1]/hook",
      "https://[::ffff:127.0.0.1]/hook",
      "https://10.1.2.3/hook",
      "https://192.168.1.10/hook",
      "https://172.16.0.5/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://[fd00:ec2::254]/",
      "https://100.100.100.200/",
      "https://0.0.0.0/",
      "https://user:pw@93.184.215.14/hook",
    ];
    for (const url of refused) {
      const err = await rejection(() => service.createEndpoint(owner, { url }));
      expect({ url, code: err.code }).toEqual({ url, code: "BAD_USER_INPUT" });
    }
    expect(await db.$count(webhookEndpoints)).toBe(before);

    // A public address is fine; updating it to a private one is refused and changes nothing.
    const { endpoint } = await service.createEndpoint(owner, { url: "https://93.184.215.14/hook" });
    expect((await rejection(() => service.updateEndpoint(owner, endpoint.id, { url: "https://10.0.0.1/", enabled: true }))).code).toBe("BAD_USER_INPUT");
    const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
    expect(row!.url).toBe("https://93.184.215.14/hook");
  });

  it("WEBHOOK_ALLOW_PRIVATE_NETWORKS=true lets private receivers in", async (db) => {
    const w = makeWorld(db);
    const owner = await registerUser(w, "PROVIDER");
    const service = new WebhookService({ db, clock: w.clock, policy: { ...PRODUCTION, allowPrivateNetworks: true, allowLoopback: true } });
    const { endpoint } = await service.createEndpoint(owner, { url: "https://10.1.2.3/hook" });
    expect(endpoint.url).toBe("https://10.1.2.3/hook");
  });

  it("stores the secret sealed (AES-256-GCM under WEBHOOK_SECRET_KEY), never as shown", async (db) => {
    const w = makeWorld(db);
    const owner = await registerUser(w, "PROVIDER");
    const service = new WebhookService({ db, clock: w.clock, policy: PRODUCTION });
    const { endpoint, secret } = await service.createEndpoint(owner, { url: "https://93.184.215.14/hook" });
    const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
    expect(row!.secret).toMatch(/^enc:v1:/);
    expect(row!.secret).not.toContain(secret.slice(6));
    expect(openWebhookSecret(row!.secret, PRODUCTION.secretKey)).toBe(secret);
    expect(() => openWebhookSecret(row!.secret, "another-key-another-key-another-key-0")).toThrow(/another WEBHOOK_SECRET_KEY/);
    expect(endpoint).not.toHaveProperty("secret");
  });

  it("an outbox event stays unsettled for pruning until its deliveries are done; two workers keep one booking's order", async (db) => {
    const w = makeWorld(db, new Date());
    const { owner, providerId, slots } = await providerWithSlots(w, { start: new Date(Math.ceil((Date.now() + 86_400_000) / 3_600_000) * 3_600_000) });
    const customer = await registerUser(w, "CUSTOMER");
    const receiver = await new WebhookReceiver((_r, i) => (i === 0 ? { status: 500 } : { status: 200 })).up();
    try {
      const service = new WebhookService({ db, clock: w.clock, policy: { ...PRODUCTION, requireHttps: false, allowLoopback: true } });
      const { secret } = await service.createEndpoint(owner, { url: receiver.url, providerId });
      const { booking } = await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
      await w.services.bookingTransition.acceptBooking(owner, booking.id);
      const [first] = await db.select().from(outbox).where(eq(outbox.bookingId, booking.id)).orderBy(outbox.id);
      expect(await hasPendingWebhookDeliveries(db, first!.id)).toBe(true); // not fanned out yet

      const workers = [0, 1].map(() => new WebhookDeliveryWorker(db, w.clock, WORKER_CONFIG, silent));
      await Promise.all(workers.map((x) => x.round()));
      await Promise.all(workers.map((x) => x.round()));
      // The first attempt failed (500) and waits a minute: the second event must wait behind it.
      expect(receiver.types()).toEqual(["BOOKING_CREATED"]);
      expect(await hasPendingWebhookDeliveries(db, first!.id)).toBe(true);
      const settled = await db.select({ id: outbox.id }).from(outbox).where(outboxWebhooksSettled());
      expect(settled.map((s) => s.id)).not.toContain(first!.id);

      w.clock.advance(90_000);
      for (let i = 0; i < 3; i++) await Promise.all(workers.map((x) => x.round()));
      expect(receiver.types()).toEqual(["BOOKING_CREATED", "BOOKING_CREATED", "BOOKING_CONFIRMED"]);
      expect(receiver.verifiedWith(secret)).toHaveLength(3);
      expect(await hasPendingWebhookDeliveries(db, first!.id)).toBe(false);
      const rows = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.bookingId, booking.id)).orderBy(webhookDeliveries.id);
      expect(rows.map((r) => [r.eventType, r.status, r.attempts])).toEqual([
        ["BOOKING_CREATED", "SUCCEEDED", 2],
        ["BOOKING_CONFIRMED", "SUCCEEDED", 1],
      ]);
      expect(verifies(receiver.received[2]!, secret)).toBe(true);
    } finally {
      await receiver.down();
    }
  });

  it("checks the address again at delivery time: a name that now resolves to a refused address gets no request", async (db) => {
    const w = makeWorld(db, new Date());
    const { owner, providerId, slots } = await providerWithSlots(w, { start: new Date(Math.ceil((Date.now() + 86_400_000) / 3_600_000) * 3_600_000) });
    const customer = await registerUser(w, "CUSTOMER");
    const receiver = await new WebhookReceiver().up();
    try {
      // Saved while loopback was allowed (as if the name resolved to a public address then) ...
      const service = new WebhookService({ db, clock: w.clock, policy: { ...PRODUCTION, requireHttps: false, allowLoopback: true } });
      const { endpoint } = await service.createEndpoint(owner, { url: `http://localhost:${receiver.port}/hooks`, providerId });
      await w.services.bookingCreate.createBooking(customer, { slotId: slots[0]!.id });
      // ... and delivered by a worker whose policy refuses it: the lookup hook stops the connection.
      const strict = new WebhookDeliveryWorker(db, w.clock, { ...WORKER_CONFIG, allowLoopback: false }, silent);
      await strict.round();
      expect(receiver.received).toHaveLength(0);
      const [d] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id));
      expect(d).toMatchObject({ status: "PENDING", attempts: 1, lastResponseStatus: null });
      expect(d!.lastError).toMatch(/^refused: localhost: .* loopback/);
      // A literal address is checked before connecting too.
      await db.update(webhookEndpoints).set({ url: `http://127.0.0.1:${receiver.port}/hooks` }).where(eq(webhookEndpoints.id, endpoint.id));
      w.clock.advance(120_000);
      await strict.round();
      expect(receiver.received).toHaveLength(0);
      const [again] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id));
      expect(again!.lastError).toMatch(/^refused: 127\.0\.0\.1 is a loopback address/);
    } finally {
      await receiver.down();
    }
  });
});
