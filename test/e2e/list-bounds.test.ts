import type { Client } from "graphql-ws";
import { slots as slotsTable } from "../../src/db/schema";
import { eq } from "drizzle-orm";
import { SetScheduleDocument } from "../generated/graphql";
import { addSlots, createProvider, futureHour, registerUser, type TestUser } from "../support/factories";
import { execute, wsClient, type GqlError } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue 10 item 7: lists are costed by their real bounds and bounded in what they return, so an
 * anonymous query within the cost limit cannot return megabytes. A schedule stores at most 366
 * overrides and 732 override windows; availableSlots returns at most `first` slots (default 200,
 * at most 1000); addAvailability is costed by the slots its window splits into.
 */
type Transport = "HTTP" | "graphql-ws";
const TRANSPORTS: Transport[] = ["HTTP", "graphql-ws"];
const DAY = 86_400_000;
const MINUTE = 60_000;

interface Answer {
  status?: number;
  data?: Record<string, unknown> | null;
  errors?: GqlError[];
}

async function sendHttp(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as Answer) };
}

function sendWs(client: Client, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let last: Answer = {};
    client.subscribe(
      { query, variables },
      {
        next: (r) => (last = { data: r.data as Record<string, unknown>, errors: r.errors as GqlError[] | undefined }),
        error: (e) => (Array.isArray(e) ? resolve({ errors: e as GqlError[] }) : reject(new Error(`socket failed: ${JSON.stringify(e)}`))),
        complete: () => resolve(last),
      },
    );
  });
}

const aliases = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(" ");
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
const windows = (n: number) => Array.from({ length: n }, (_, i) => ({ startTime: hhmm(20 * i), endTime: hhmm(20 * i + 10) }));
const dates = (n: number) => Array.from({ length: n }, (_, i) => new Date(Date.UTC(2031, 0, 1) + i * DAY).toISOString().slice(0, 10));

let server: TestServer;
let owner: TestUser;
let ws: Client;
let provider: { id: string };
/** A provider without a schedule (so no horizon), with 300 one-off slots from `slotStart`. */
let oneOff: { id: string };
let slotStart: Date;
beforeAll(async () => {
  server = await startTestServer();
  owner = await registerUser(server.url, "PROVIDER");
  ws = wsClient(server.wsUrl);
  provider = await createProvider(server.url, owner);
  // The largest schedule that can be stored: 366 overrides, 732 windows among them, 50 weekly windows.
  const overrides = dates(366).map((date, i) => ({ date, windows: windows(i === 0 ? 50 : i <= 341 ? 2 : 0) }));
  const weekly = windows(50).map((w) => ({ weekday: 6, ...w }));
  const saved = await execute(server.url, SetScheduleDocument, { input: { providerId: provider.id, slotMinutes: 5, horizonDays: 1, weekly, overrides } }, owner.token);
  expect(saved.errors).toBeUndefined();
  oneOff = await createProvider(server.url, owner);
  slotStart = futureHour(24 * 40);
  await addSlots(server.url, owner, oneOff.id, { count: 300, slotMinutes: 5, start: slotStart });
});
afterAll(async () => {
  await ws?.dispose();
  await server.close();
});

const send = (transport: Transport, query: string, variables?: Record<string, unknown>, token?: string) =>
  transport === "HTTP" ? sendHttp(server.url, query, variables, token) : sendWs(ws, query, variables);
const reasons = (a: Answer) => a.errors?.map((e) => [e.extensions?.code, e.extensions?.reason]);

describe.each(TRANSPORTS)("over %s", (transport) => {
  const scheduleQuery = "provider(id: $p) { schedule { overrides { date windows { startTime endTime } } } }";

  it("refuses 30 aliases of a provider's schedule overrides, anonymously", async () => {
    const r = await send(transport, `query ($p: ID!) { ${aliases(30, scheduleQuery)} }`, { p: provider.id });
    expect(reasons(r)).toEqual([["BAD_USER_INPUT", "QUERY_TOO_COSTLY"]]);
    expect(r.data ?? null).toBeNull();
  });

  it("answers one, holding no more than can be stored", async () => {
    const r = await send(transport, `query ($p: ID!) { ${scheduleQuery} }`, { p: provider.id });
    expect(r.errors).toBeUndefined();
    const overrides = (r.data as { provider: { schedule: { overrides: { windows: unknown[] }[] } } }).provider.schedule.overrides;
    expect(overrides).toHaveLength(366);
    expect(overrides.reduce((n, o) => n + o.windows.length, 0)).toBe(732);
  });

  it("refuses 30 aliases of a 90-day availableSlots", async () => {
    const from = new Date().toISOString();
    const to = new Date(Date.now() + 90 * DAY).toISOString();
    const r = await send(transport, `query ($p: ID!, $from: DateTimeISO!, $to: DateTimeISO!) { ${aliases(30, "availableSlots(providerId: $p, from: $from, to: $to) { id }")} }`, { p: provider.id, from, to });
    expect(reasons(r)).toEqual([["BAD_USER_INPUT", "QUERY_TOO_COSTLY"]]);
  });

  it("returns at most `first` slots (default 200), soonest first, and the rest from just after the last", async () => {
    const q = "query ($p: ID!, $from: DateTimeISO!, $to: DateTimeISO!, $first: Int) { availableSlots(providerId: $p, from: $from, to: $to, first: $first) { startsAt } }";
    const window = { p: oneOff.id, from: slotStart.toISOString(), to: new Date(slotStart.getTime() + 2 * DAY).toISOString() };
    const starts = (a: Answer) => (a.data as { availableSlots: { startsAt: string }[] }).availableSlots.map((s) => s.startsAt);
    const page = starts(await send(transport, q, window));
    expect(page).toHaveLength(200);
    expect(page[0]).toBe(slotStart.toISOString());
    const rest = starts(await send(transport, q, { ...window, from: new Date(Date.parse(page.at(-1)!) + 1).toISOString(), first: 1000 }));
    expect(rest).toHaveLength(100);
    expect(rest[0]).toBe(new Date(slotStart.getTime() + 200 * 5 * MINUTE).toISOString());
    expect(starts(await send(transport, q, { ...window, first: 300 }))).toHaveLength(300);
    const tooMany = await send(transport, q, { ...window, first: 1001 });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
  });

});

it("refuses a schedule with more override windows than can be stored", async () => {
  const other = await createProvider(server.url, owner);
  const overrides = dates(15).map((date, i) => ({ date, windows: windows(i < 14 ? 50 : 33) }));
  const r = await sendHttp(
    server.url,
    "mutation ($i: SetScheduleInput!) { setSchedule(input: $i) { slotMinutes } }",
    { i: { providerId: other.id, slotMinutes: 60, weekly: [], overrides } },
    owner.token,
  );
  expect(r.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "overrides[14].windows" });
});

it("costs addAvailability by the slots its window splits into, and writes nothing when refused", async () => {
  const other = await createProvider(server.url, owner);
  const start = futureHour(24 * 50);
  // 5000 one-minute slots, each with its provider: 1 + 5000 x 4.
  const input = { providerId: other.id, startsAt: start.toISOString(), endsAt: new Date(start.getTime() + 5000 * MINUTE).toISOString(), slotMinutes: 1 };
  const r = await sendHttp(server.url, "mutation ($i: AddAvailabilityInput!) { addAvailability(input: $i) { id provider { id name } } }", { i: input }, owner.token);
  expect(reasons(r)).toEqual([["BAD_USER_INPUT", "QUERY_TOO_COSTLY"]]);
  expect(r.errors?.[0]?.extensions?.actual).toBe(20_001);
  expect(await server.database.db.select().from(slotsTable).where(eq(slotsTable.providerId, other.id))).toEqual([]);
});
