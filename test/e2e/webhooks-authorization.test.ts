import { eq } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints } from "../../src/db/schema";
import {
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  LoginDocument,
  RedeliverWebhookDocument,
  RotateWebhookSecretDocument,
  UpdateWebhookEndpointDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
} from "../generated/graphql";
import { addSlots, bookSlot, createProvider, registerUser, type TestUser } from "../support/factories";
import { errorCode, execute, executeOk } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Who may manage webhook endpoints (a provider's owner for what it owns, an admin for all) and
 * what bad input gets: every operation by anonymous, customer, the owner, another provider and an
 * admin; refusals change nothing.
 */

const ADMIN = { email: "admin-webhook-authz@example.test", password: "admin-password-webhook-authz" };
const ROLES = ["anonymous", "customer", "owner", "otherProvider", "admin"] as const;
type RoleName = (typeof ROLES)[number];

let server: TestServer;
let tokens: Record<RoleName, string | undefined>;
let owner: TestUser;
let providerId: string;
let eventId: string;

beforeAll(async () => {
  server = await startTestServer({ env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
  const admin = (await executeOk(server.url, LoginDocument, ADMIN)).login.accessToken;
  owner = await registerUser(server.url, "PROVIDER");
  const other = await registerUser(server.url, "PROVIDER");
  const customer = await registerUser(server.url, "CUSTOMER");
  providerId = (await createProvider(server.url, owner)).id;
  await createProvider(server.url, other);
  const [slot] = await addSlots(server.url, owner, providerId, { count: 1 });
  await bookSlot(server.url, customer, slot!.id);
  const [row] = await server.database.db.query.outbox.findMany({ limit: 1 });
  eventId = row!.eventId;
  tokens = { anonymous: undefined, customer: customer.token, owner: owner.token, otherProvider: other.token, admin };
});
afterAll(() => server.close());

const URL_OK = "http://127.0.0.1:9/hooks";

async function ownersEndpoint(): Promise<string> {
  return (await executeOk(server.url, CreateWebhookEndpointDocument, { input: { url: URL_OK, providerId } }, owner.token)).createWebhookEndpoint.endpoint.id;
}

async function endpointRow(id: string) {
  const [row] = await server.database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row;
}

/** ok, or the extensions.code each role gets. */
const managers = { anonymous: "UNAUTHENTICATED", customer: "FORBIDDEN", owner: "ok", otherProvider: "NOT_FOUND", admin: "ok" } as const;

describe.each(ROLES)("as %s", (role) => {
  test("webhookEndpoints lists what the caller manages", async () => {
    const id = await ownersEndpoint();
    const r = await execute(server.url, WebhookEndpointsDocument, {}, tokens[role]);
    const expected = { anonymous: "UNAUTHENTICATED", customer: "FORBIDDEN", owner: "ok", otherProvider: "ok", admin: "ok" }[role];
    expect(errorCode(r) ?? "ok").toBe(expected);
    if (expected !== "ok") return;
    const ids = r.data!.webhookEndpoints.map((e) => e.id);
    expect(ids.includes(id)).toBe(role !== "otherProvider");
  });

  test("webhookEndpoint (one endpoint with its deliveries)", async () => {
    const id = await ownersEndpoint();
    const r = await execute(server.url, WebhookDeliveriesDocument, { id, first: 10 }, tokens[role]);
    expect(errorCode(r) ?? "ok").toBe(managers[role]);
    if (managers[role] === "ok") expect(r.data!.webhookEndpoint.id).toBe(id);
  });

  test("createWebhookEndpoint for the owner's provider", async () => {
    const before = await server.database.db.$count(webhookEndpoints);
    const r = await execute(server.url, CreateWebhookEndpointDocument, { input: { url: URL_OK, providerId } }, tokens[role]);
    const expected = { ...managers, otherProvider: "FORBIDDEN" }[role];
    expect(errorCode(r) ?? "ok").toBe(expected);
    expect(await server.database.db.$count(webhookEndpoints)).toBe(before + (expected === "ok" ? 1 : 0));
    if (expected === "ok") expect(r.data!.createWebhookEndpoint.endpoint.provider).toEqual({ id: providerId });
  });

  test("updateWebhookEndpoint", async () => {
    const id = await ownersEndpoint();
    const r = await execute(server.url, UpdateWebhookEndpointDocument, { id, input: { url: "http://127.0.0.1:10/other", eventTypes: ["BOOKING_CREATED"], enabled: false } }, tokens[role]);
    expect(errorCode(r) ?? "ok").toBe(managers[role]);
    const row = await endpointRow(id);
    if (managers[role] === "ok") expect(row).toMatchObject({ url: "http://127.0.0.1:10/other", eventTypes: ["BOOKING_CREATED"], enabled: false });
    else expect(row).toMatchObject({ url: URL_OK, eventTypes: [], enabled: true });
  });

  test("deleteWebhookEndpoint", async () => {
    const id = await ownersEndpoint();
    const r = await execute(server.url, DeleteWebhookEndpointDocument, { id }, tokens[role]);
    expect(errorCode(r) ?? "ok").toBe(managers[role]);
    expect(Boolean(await endpointRow(id))).toBe(managers[role] !== "ok");
  });

  test("rotateWebhookSecret", async () => {
    const id = await ownersEndpoint();
    const before = (await endpointRow(id))!.secret;
    const r = await execute(server.url, RotateWebhookSecretDocument, { id }, tokens[role]);
    expect(errorCode(r) ?? "ok").toBe(managers[role]);
    expect((await endpointRow(id))!.secret === before).toBe(managers[role] !== "ok");
  });

  test("redeliverWebhook", async () => {
    const id = await ownersEndpoint();
    const count = () => server.database.db.$count(webhookDeliveries, eq(webhookDeliveries.endpointId, id));
    const before = await count();
    const r = await execute(server.url, RedeliverWebhookDocument, { endpointId: id, eventId }, tokens[role]);
    expect(errorCode(r) ?? "ok").toBe(managers[role]);
    expect(await count()).toBe(before + (managers[role] === "ok" ? 1 : 0));
  });
});

describe("bad input gets BAD_USER_INPUT (or NOT_FOUND) and writes nothing", () => {
  test.each([
    ["not a URL", { url: "not a url" }, "BAD_USER_INPUT"],
    ["not http(s)", { url: "ftp://127.0.0.1/hook" }, "BAD_USER_INPUT"],
    ["a private address (allowed only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)", { url: "http://10.0.0.7/hook" }, "BAD_USER_INPUT"],
    ["the cloud metadata address", { url: "http://169.254.169.254/latest/meta-data/" }, "BAD_USER_INPUT"],
    ["credentials in the URL", { url: "http://user:secret@127.0.0.1/hook" }, "BAD_USER_INPUT"],
    ["a URL too long", { url: `http://127.0.0.1/${"a".repeat(2_100)}` }, "BAD_USER_INPUT"],
    ["a malformed provider id", { url: URL_OK, providerId: "nope" }, "BAD_USER_INPUT"],
    ["an unknown provider", { url: URL_OK, providerId: "00000000-0000-4000-8000-000000000000" }, "NOT_FOUND"],
  ])("create with %s", async (_what, input, code) => {
    const before = await server.database.db.$count(webhookEndpoints);
    const r = await execute(server.url, CreateWebhookEndpointDocument, { input }, owner.token);
    expect(errorCode(r)).toBe(code);
    expect(await server.database.db.$count(webhookEndpoints)).toBe(before);
  });

  test.each([
    "http://127.0.0.1/a\u0000b",
    "http://a\u0000b.example/",
    "http://127.0.0.1/\ud800",
    "http://💥.invalid/",
    "http://[fe80::1%25eth0]/",
    "http://0x7f.1/",
    "http://2130706433/",
    "http://[::]/",
    "http://0/",
    "javascript:alert(1)",
    "",
    " ",
  ])("hostile url %j: never an internal error; refused ones write nothing", async (url) => {
    const before = await server.database.db.$count(webhookEndpoints);
    const r = await execute(server.url, CreateWebhookEndpointDocument, { input: { url } }, owner.token);
    if (r.errors) {
      expect(r.errors.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
      expect(await server.database.db.$count(webhookEndpoints)).toBe(before);
    } else {
      // Only loopback forms can pass outside production, normalised by the WHATWG URL parser.
      expect(r.data!.createWebhookEndpoint.endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1\//);
    }
  });

  test("a 30 000-character url is refused and writes nothing", async () => {
    const before = await server.database.db.$count(webhookEndpoints);
    const r = await execute(server.url, CreateWebhookEndpointDocument, { input: { url: "h".repeat(30_000) } }, owner.token);
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(await server.database.db.$count(webhookEndpoints)).toBe(before);
  });

  test("an unknown event type is refused by the schema", async () => {
    const r = await execute(server.url, CreateWebhookEndpointDocument, { input: { url: URL_OK, eventTypes: ["NOPE" as never] } }, owner.token);
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
  });

  test("update with a private address changes nothing", async () => {
    const id = await ownersEndpoint();
    const r = await execute(server.url, UpdateWebhookEndpointDocument, { id, input: { url: "http://192.168.0.1/", enabled: false } }, owner.token);
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(await endpointRow(id)).toMatchObject({ url: URL_OK, enabled: true });
  });

  test("ids that are not ids, unknown events and a bad cursor", async () => {
    const id = await ownersEndpoint();
    expect(errorCode(await execute(server.url, DeleteWebhookEndpointDocument, { id: "x" }, owner.token))).toBe("NOT_FOUND");
    expect(errorCode(await execute(server.url, RedeliverWebhookDocument, { endpointId: id, eventId: "x" }, owner.token))).toBe("NOT_FOUND");
    expect(errorCode(await execute(server.url, RedeliverWebhookDocument, { endpointId: id, eventId: "00000000-0000-4000-8000-000000000000" }, owner.token))).toBe("NOT_FOUND");
    expect(errorCode(await execute(server.url, WebhookDeliveriesDocument, { id, first: 5, after: "garbage" }, owner.token))).toBe("BAD_USER_INPUT");
    expect(errorCode(await execute(server.url, WebhookDeliveriesDocument, { id, first: 0 }, owner.token))).toBe("BAD_USER_INPUT");
  });

  test("redelivering to a disabled endpoint is a CONFLICT and makes no delivery", async () => {
    const id = await ownersEndpoint();
    await executeOk(server.url, UpdateWebhookEndpointDocument, { id, input: { url: URL_OK, enabled: false } }, owner.token);
    const r = await execute(server.url, RedeliverWebhookDocument, { endpointId: id, eventId }, owner.token);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", reason: "WEBHOOK_ENDPOINT_DISABLED" });
    expect(await server.database.db.$count(webhookDeliveries, eq(webhookDeliveries.endpointId, id))).toBe(0);
  });

  test("another provider's event cannot be redelivered to an endpoint scoped elsewhere", async () => {
    const other = await registerUser(server.url, "PROVIDER");
    const { endpoint } = (await executeOk(server.url, CreateWebhookEndpointDocument, { input: { url: URL_OK } }, other.token)).createWebhookEndpoint;
    const r = await execute(server.url, RedeliverWebhookDocument, { endpointId: endpoint.id, eventId }, other.token);
    expect(errorCode(r)).toBe("NOT_FOUND");
    expect(await server.database.db.$count(webhookDeliveries, eq(webhookDeliveries.endpointId, endpoint.id))).toBe(0);
  });
});
