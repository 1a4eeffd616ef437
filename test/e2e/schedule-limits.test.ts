import { DateTime } from "luxon";
import { ProviderScheduleDocument, SetScheduleDocument } from "../generated/graphql";
import { createProvider, registerUser, type TestUser } from "../support/factories";
import { execute, executeOk } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Issue 10 item 8: an oversized setSchedule is refused by arithmetic, before any slot is laid
 * out. Work is measured by a counter, not a clock: generation resolves each window of each
 * date through luxon's DateTime.fromObject (two calls per window and date), counting does not.
 */
const ALL_WEEK = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, startTime: "00:00", endTime: "24:00" }));
let server: TestServer;
let owner: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  owner = await registerUser(server.url, "PROVIDER");
});
afterAll(async () => {
  await server.close();
});

afterEach(() => jest.restoreAllMocks());

test("refuses a year of 5-minute slots, 24 h a day, without generating them, and stores nothing", async () => {
  const provider = await createProvider(server.url, owner);
  const resolved = jest.spyOn(DateTime, "fromObject");
  const r = await execute(server.url, SetScheduleDocument, { input: { providerId: provider.id, slotMinutes: 5, horizonDays: 365, weekly: ALL_WEEK } }, owner.token);
  const calls = resolved.mock.calls.length;
  resolved.mockRestore();
  expect(r.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "horizonDays" });
  expect(r.errors?.[0]?.message).toMatch(/would offer at least \d+ slots within its horizon; at most 10000/);
  // 365 dates x 7 windows would take ~5,000 resolutions; the refusal takes a handful.
  expect(calls).toBeLessThan(20);
  expect((await executeOk(server.url, ProviderScheduleDocument, { id: provider.id })).provider?.schedule).toBeNull();
});

test("still generates a schedule within the limit", async () => {
  const provider = await createProvider(server.url, owner);
  const resolved = jest.spyOn(DateTime, "fromObject");
  const saved = await executeOk(server.url, SetScheduleDocument, { input: { providerId: provider.id, slotMinutes: 60, horizonDays: 3, weekly: ALL_WEEK } }, owner.token);
  expect(saved.setSchedule.slotMinutes).toBe(60);
  // The counter does see generation: at least one resolution for each of the 4-6 dates looked at.
  expect(resolved.mock.calls.length).toBeGreaterThanOrEqual(4);
});
