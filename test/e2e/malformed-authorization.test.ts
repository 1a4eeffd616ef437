import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { MeDocument } from "../generated/graphql";
import { registerUser, type TestUser } from "../support/factories";
import { execute } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue 10 item 16: credentials that are not `Bearer <token>` are refused like an invalid token
 * (HTTP 401 UNAUTHENTICATED; graphql-ws closes with 4403), never taken as an anonymous caller.
 * Sending nothing (or a blank value) stays anonymous.
 */
let server: TestServer;
let user: TestUser;
const clients: Client[] = [];
beforeAll(async () => {
  server = await startTestServer();
  user = await registerUser(server.url);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(async () => {
  await server.close();
});

const MALFORMED = (token: string): [string, unknown][] => [
  ["Basic credentials", `Basic ${Buffer.from(`${user.email}:${user.password}`).toString("base64")}`],
  ["a token without the Bearer scheme", token],
  ["the scheme without a token", "Bearer"],
  ["two tokens", `Bearer ${token} ${token}`],
  ["another scheme carrying the token", `Token ${token}`],
];

/** Connects with `authorization` as given; "connected" or the close code. */
function connectWith(authorization: unknown): Promise<"connected" | number> {
  const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams: { authorization } });
  clients.push(client);
  return new Promise((resolve) => {
    client.on("connected", () => resolve("connected"));
    client.on("closed", (event) => resolve((event as { code: number }).code));
    client.subscribe({ query: "{ me { id } }" }, { next: () => undefined, error: () => undefined, complete: () => undefined });
  });
}

describe("HTTP", () => {
  test.each([0, 1, 2, 3, 4])("malformed Authorization #%d is 401 UNAUTHENTICATED", async (i) => {
    const [label, header] = MALFORMED(user.token)[i]!;
    const r = await execute(server.url, MeDocument, {}, undefined, { authorization: header as string });
    expect({ label, status: r.status, code: r.errors?.[0]?.extensions?.code, data: r.data ?? null }).toEqual({ label, status: 401, code: "UNAUTHENTICATED", data: null });
  });

  test("no header, or a blank one, is anonymous; the bearer scheme is case-insensitive", async () => {
    expect(await execute(server.url, MeDocument, {})).toMatchObject({ status: 200, data: { me: null } });
    expect(await execute(server.url, MeDocument, {}, undefined, { authorization: "  " })).toMatchObject({ status: 200, data: { me: null } });
    expect(await execute(server.url, MeDocument, {}, undefined, { authorization: `bearer ${user.token}` })).toMatchObject({ status: 200, data: { me: { id: user.id } } });
  });
});

describe("graphql-ws connectionParams", () => {
  test.each([0, 1, 2, 3, 4])("malformed authorization #%d closes the socket with 4403", async (i) => {
    const [label, value] = MALFORMED(user.token)[i]!;
    expect({ label, outcome: await connectWith(value) }).toEqual({ label, outcome: 4403 });
  });

  test.each([
    ["a number", 42],
    ["an object", { token: "x" }],
  ])("an authorization that is %s closes the socket with 4403", async (_label, value) => {
    expect(await connectWith(value)).toBe(4403);
  });

  test("no authorization, null or blank is an anonymous connection; Bearer works", async () => {
    expect(await connectWith(undefined)).toBe("connected");
    expect(await connectWith(null)).toBe("connected");
    expect(await connectWith("")).toBe("connected");
    expect(await connectWith(`Bearer ${user.token}`)).toBe("connected");
  });
});
