import type { Client } from "graphql-ws";
import { revokeSession } from "../../src/db/repositories/session.repository";
import { BookingDocument, LoginDocument, LogoutDocument, RefreshTokenDocument, SlotAvailabilityChangedDocument } from "../generated/graphql";
import { REDIS_URL, createPostgresDatabase, requireService, type TestDatabase } from "../support/backends";
import { addSlots, bookSlot, createProvider, registerUser, type TestUser } from "../support/factories";
import { execute, executeOk, subscribe, wsClient } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import { settle } from "../support/wait";

/**
 * Issue 10 item 4: a revoked session must not live on in an open graphql-ws socket. Logout, a
 * replayed refresh token (which revokes the session) close the session's sockets at once with
 * 4403, on every instance (the revocation travels over the pub/sub: Redis with two instances);
 * and an operation on a socket whose session ended meanwhile is refused and closes it.
 */
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

const login = async (url: string, user: TestUser) => (await executeOk(url, LoginDocument, { email: user.email, password: user.password })).login;

/** An open socket with a live subscription; `closed` resolves with the close code. */
async function openSocket(wsUrl: string, token: string, providerId: string) {
  const client = wsClient(wsUrl, token);
  clients.push(client);
  const closed = new Promise<number>((resolve) => client.on("closed", (event) => resolve((event as { code: number }).code)));
  const connected = new Promise<void>((resolve, reject) => {
    client.on("connected", () => resolve());
    void closed.then((code) => reject(new Error(`closed ${code} before connecting`)));
  });
  // Lazy: the subscription opens the socket.
  const sub = subscribe(client, SlotAvailabilityChangedDocument, { providerId });
  await connected;
  await settle();
  return { client, closed, sub };
}

/** Resolves with the close code, or "open" if the socket is still open after `ms`. */
async function closedWithin(closed: Promise<number>, ms = 3_000): Promise<number | "open"> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([closed, new Promise<"open">((r) => (timer = setTimeout(() => r("open"), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one operation on the socket: its data, or its error code. */
function run(client: Client, query: { query: string; variables?: Record<string, unknown> }): Promise<unknown> {
  return new Promise((resolve) => {
    let data: unknown;
    client.subscribe(query, {
      next: (v) => (data = v.data ?? v.errors?.[0]?.extensions?.code),
      error: (err) => resolve(Array.isArray(err) ? (err[0] as { extensions?: { code?: string } }).extensions?.code : "CLOSED"),
      complete: () => resolve(data),
    });
  });
}

describe("one instance (in-process pub/sub, or Redis in that mode)", () => {
  let server: TestServer;
  let providerId: string;
  beforeAll(async () => {
    server = await startTestServer();
    const owner = await registerUser(server.url, "PROVIDER");
    providerId = (await createProvider(server.url, owner)).id;
  });
  afterAll(async () => {
    await server.close();
  });

  test("logout closes the session's open sockets with 4403 at once; another session's socket stays open", async () => {
    const user = await registerUser(server.url);
    const other = await login(server.url, user);
    const [a, b, c] = [await openSocket(server.wsUrl, user.token, providerId), await openSocket(server.wsUrl, user.token, providerId), await openSocket(server.wsUrl, other.accessToken, providerId)];
    expect((await executeOk(server.url, LogoutDocument, { refreshToken: user.refreshToken })).logout).toBe(true);
    expect(await closedWithin(a.closed)).toBe(4403);
    expect(await closedWithin(b.closed)).toBe(4403);
    expect(await closedWithin(c.closed, 500)).toBe("open");
    expect(await run(c.client, { query: "{ me { id } }" })).toEqual({ me: { id: user.id } });
  });

  test("a replayed refresh token revokes the session: sockets on its old and rotated access tokens close with 4403", async () => {
    const user = await registerUser(server.url);
    const old = await openSocket(server.wsUrl, user.token, providerId);
    const rotated = (await executeOk(server.url, RefreshTokenDocument, { refreshToken: user.refreshToken })).refreshToken;
    const fresh = await openSocket(server.wsUrl, rotated.accessToken, providerId);
    const replay = await execute(server.url, RefreshTokenDocument, { refreshToken: user.refreshToken });
    expect(replay.errors?.[0]?.extensions?.reason).toBe("REFRESH_TOKEN_REUSED");
    expect(await closedWithin(old.closed)).toBe(4403);
    expect(await closedWithin(fresh.closed)).toBe(4403);
  });

  test("a session that ended unheard (no message) is refused at the socket's next operation: me and cancelBooking, then 4403", async () => {
    const owner = await registerUser(server.url, "PROVIDER");
    const provider = await createProvider(server.url, owner, { requiresConfirmation: false });
    const [slot] = await addSlots(server.url, owner, provider.id, { count: 1 });
    const customer = await registerUser(server.url);
    const booking = await bookSlot(server.url, customer, slot!.id);
    const ws = await openSocket(server.wsUrl, customer.token, providerId);
    expect(await run(ws.client, { query: "{ me { id } }" })).toEqual({ me: { id: customer.id } });
    // Revoked behind the pub/sub's back, as another process without it would.
    const sid = JSON.parse(Buffer.from(customer.token.split(".")[1]!, "base64url").toString("utf8")).sid as string;
    expect(await revokeSession(server.database.db, sid, "TEST", new Date())).toBe(true);
    const cancel = await run(ws.client, { query: "mutation($id: ID!) { cancelBooking(id: $id) { id status } }", variables: { id: booking.id } });
    // Refused: the socket closes (4403) before or instead of answering.
    expect(["CLOSED", "UNAUTHENTICATED"]).toContain(cancel);
    expect(await closedWithin(ws.closed)).toBe(4403);
    // The revoked socket changed nothing: the booking is still as it was.
    const seen = await executeOk(server.url, BookingDocument, { id: booking.id }, owner.token);
    expect(seen.booking?.status).toBe(booking.status);
  });
});

describe("two instances on one PostgreSQL database and Redis", () => {
  let database: TestDatabase | undefined;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    if (!(await requireService("postgres")) || !(await requireService("redis"))) return;
    database = await createPostgresDatabase();
    servers.push(await startTestServer({ databaseUrl: database.url, redisUrl: REDIS_URL }), await startTestServer({ databaseUrl: database.url, redisUrl: REDIS_URL }));
  });
  afterAll(async () => {
    for (const s of servers.splice(0)) await s.close();
    await database?.drop();
  });

  test("a socket on instance A closes with 4403 when the session logs out on instance B", async () => {
    if (!database) return;
    const [a, b] = servers as [TestServer, TestServer];
    const owner = await registerUser(a.url, "PROVIDER");
    const provider = await createProvider(a.url, owner);
    const user = await registerUser(a.url);
    const ws = await openSocket(a.wsUrl, user.token, provider.id);
    expect((await executeOk(b.url, LogoutDocument, { refreshToken: user.refreshToken })).logout).toBe(true);
    expect(await closedWithin(ws.closed)).toBe(4403);
  });

  test("a socket on instance A closes with 4403 when a refresh token is replayed on instance B", async () => {
    if (!database) return;
    const [a, b] = servers as [TestServer, TestServer];
    const owner = await registerUser(a.url, "PROVIDER");
    const provider = await createProvider(a.url, owner);
    const user = await registerUser(a.url);
    const ws = await openSocket(a.wsUrl, user.token, provider.id);
    await executeOk(b.url, RefreshTokenDocument, { refreshToken: user.refreshToken });
    expect((await execute(b.url, RefreshTokenDocument, { refreshToken: user.refreshToken })).errors?.[0]?.extensions?.reason).toBe("REFRESH_TOKEN_REUSED");
    expect(await closedWithin(ws.closed)).toBe(4403);
  });
});
