import { loadConfig } from "../../src/config";
import { WebhookSecretUnreadableError, generateWebhookSecret, openWebhookSecret, sealWebhookSecret } from "../../src/domain/webhook-secret";
import { addressRefusal, endpointReceives, retryDelayMs } from "../../src/domain/webhooks";

const STRICT = { allowLoopback: false, allowPrivateNetworks: false };

describe("addressRefusal", () => {
  test.each(["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])("public %s is allowed", (a) => {
    expect(addressRefusal(a, STRICT)).toBeNull();
  });
  test.each([
    ["127.0.0.1", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["10.0.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["fe80::1", "linkLocal"],
    ["fd00:ec2::254", "uniqueLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
  ])("%s is refused (%s)", (a, range) => {
    expect(addressRefusal(a, STRICT)).toMatch(new RegExp(range === "loopback" ? "loopback" : range));
  });
  test("loopback only with allowLoopback; everything with allowPrivateNetworks", () => {
    expect(addressRefusal("127.0.0.1", { allowLoopback: true, allowPrivateNetworks: false })).toBeNull();
    expect(addressRefusal("10.0.0.1", { allowLoopback: true, allowPrivateNetworks: false })).not.toBeNull();
    expect(addressRefusal("169.254.169.254", { allowLoopback: false, allowPrivateNetworks: true })).toBeNull();
  });
});

describe("retryDelayMs", () => {
  const schedule = [5_000, 300_000];
  test("follows the schedule with ±20 % jitter, then gives up", () => {
    expect(retryDelayMs(1, schedule, () => 0)).toBe(4_000);
    expect(retryDelayMs(1, schedule, () => 0.999999)).toBe(6_000);
    expect(retryDelayMs(2, schedule, () => 0.5)).toBe(300_000);
    expect(retryDelayMs(3, schedule)).toBeNull();
  });
});

describe("endpointReceives", () => {
  const event = { eventType: "BOOKING_CREATED", providerId: "p1", providerOwnerId: "u1" };
  test("type filter: empty means every type", () => {
    expect(endpointReceives({ eventTypes: [], providerId: null, ownerId: "u1", ownerIsAdmin: false }, event)).toBe(true);
    expect(endpointReceives({ eventTypes: ["BOOKING_CONFIRMED"], providerId: null, ownerId: "u1", ownerIsAdmin: false }, event)).toBe(false);
  });
  test("provider filter: one provider, every provider of the owner, an admin's: all", () => {
    expect(endpointReceives({ eventTypes: [], providerId: "p2", ownerId: "u1", ownerIsAdmin: false }, event)).toBe(false);
    expect(endpointReceives({ eventTypes: [], providerId: null, ownerId: "u2", ownerIsAdmin: false }, event)).toBe(false);
    expect(endpointReceives({ eventTypes: [], providerId: null, ownerId: "admin", ownerIsAdmin: true }, event)).toBe(true);
  });
});

describe("webhook secrets", () => {
  test("whsec_ + base64 of 32 bytes, sealed with a key and readable only with it", () => {
    const secret = generateWebhookSecret();
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    const key = "k".repeat(32);
    const sealed = sealWebhookSecret(secret, key);
    expect(sealed).not.toContain(secret);
    expect(openWebhookSecret(sealed, key)).toBe(secret);
    expect(() => openWebhookSecret(sealed, undefined)).toThrow(WebhookSecretUnreadableError);
    expect(openWebhookSecret(sealWebhookSecret(secret, undefined), key)).toBe(secret);
  });
});

describe("webhook configuration", () => {
  test("defaults: the issue's schedule, 10 s, 5 days; production refuses private networks and http", () => {
    const dev = loadConfig({}).webhooks;
    expect(dev).toMatchObject({ delivery: true, requireHttps: false, allowLoopback: true, allowPrivateNetworks: false, timeoutMs: 10_000, disableAfterMs: 5 * 86_400_000 });
    expect(dev.retryScheduleMs).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    const prod = loadConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://x/y", JWT_SECRET: "s".repeat(32) }).webhooks;
    expect(prod).toMatchObject({ requireHttps: true, allowLoopback: false, allowPrivateNetworks: false });
    const open = loadConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://x/y", JWT_SECRET: "s".repeat(32), WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" }).webhooks;
    expect(open).toMatchObject({ requireHttps: true, allowLoopback: true, allowPrivateNetworks: true });
  });
  test("a short schedule for tests, and malformed values refused", () => {
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: "1s,2s,4s" }).webhooks.retryScheduleMs).toEqual([1_000, 2_000, 4_000]);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: "1s,soon" })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
    expect(() => loadConfig({ WEBHOOK_DISABLE_AFTER: "0d" })).toThrow(/WEBHOOK_DISABLE_AFTER/);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: "yes" })).toThrow(/WEBHOOK_ALLOW_PRIVATE_NETWORKS/);
    expect(() => loadConfig({ WEBHOOK_SECRET_KEY: "short" })).toThrow(/WEBHOOK_SECRET_KEY/);
  });
});
