import { EXAMPLE_STEPS, main, runExample } from "../../scripts/example";
import { startTestServer, type TestServer } from "../support/test-server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

test("the README's example runs as written against a fresh server, twice, with tomorrow's slots, and shows each operation and token", async () => {
  for (let run = 0; run < 2; run++) {
    const lines: string[] = [];
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const result = await runExample(server.url, (l) => lines.push(l));
    const transcript = lines.join("\n");

    expect(result.bookingStatus).toBe("CONFIRMED");
    expect(result.event).toEqual({ eventType: "BOOKING_CONFIRMED", previousStatus: "PENDING", booking: { status: "CONFIRMED" } });
    expect(result.slotIds).toHaveLength(4);
    // Every step's document is printed, in order, and the authenticated ones name their token.
    let at = -1;
    for (const step of Object.values(EXAMPLE_STEPS)) {
      const next = transcript.indexOf(step.document, at + 1);
      expect(next).toBeGreaterThan(at);
      at = next;
    }
    expect(transcript).toMatch(/as the provider: Authorization: Bearer ey\S+…\S{6}/);
    expect(transcript).toMatch(/as the customer: Authorization: Bearer ey\S+…\S{6}/);
    expect(transcript).toContain('"accessToken": "ey');
    expect(transcript).toContain('"eventType": "BOOKING_CONFIRMED"');

    expect(transcript).toContain(`"startsAt":"${tomorrow}T08:00:00Z"`);
  }
});

test("npm run example's main(): 0 against a running server (--url), 1 with a clear message when nothing answers", async () => {
  const out: string[] = [];
  const stdout = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  const stderr = jest.spyOn(process.stderr, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  try {
    expect(await main(["--url", server.url])).toBe(0);
    expect(out.join("")).toContain("# done: every step answered as described");
    out.length = 0;
    expect(await main(["--url", "http://127.0.0.1:1/graphql"])).toBe(1);
    expect(out.join("")).toContain("No Slotwise server answers at http://127.0.0.1:1/healthz");
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
});
