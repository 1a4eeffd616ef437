import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import express from "express";
import pino from "pino";
import { bookingEventEnvelopeSchema, buildEnvelope } from "../../src/events/envelope";
import { httpAccessLog, requestIdMiddleware } from "../../src/observability/http-request-id";
import {
  bindAsyncIterable,
  currentRequestId,
  isValidRequestId,
  resolveRequestId,
  runWithRequestContext,
} from "../../src/observability/request-context";
import { sleep } from "../support/wait";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function envelope(requestId?: string) {
  const booking = { id: randomUUID(), providerId: randomUUID(), slotId: randomUUID(), customerId: randomUUID(), status: "PENDING" as const };
  const slot = { startsAt: new Date("2030-01-01T09:00:00Z"), endsAt: new Date("2030-01-01T09:30:00Z") };
  return buildEnvelope("BOOKING_CREATED", { booking, slot }, { at: new Date(), previousStatus: null, actorId: booking.customerId, requestId });
}

describe("request context", () => {
  test("the request id is visible across awaits and timers started inside, and not outside", async () => {
    expect(currentRequestId()).toBeUndefined();
    const seen = await runWithRequestContext({ requestId: "req-1" }, async () => {
      await Promise.resolve();
      const inTimer = await new Promise<string | undefined>((r) => setTimeout(() => r(currentRequestId()), 5));
      return [currentRequestId(), inTimer];
    });
    expect(seen).toEqual(["req-1", "req-1"]);
    expect(currentRequestId()).toBeUndefined();
  });

  test("concurrent requests each see their own id", async () => {
    const one = (id: string, delay: number) =>
      runWithRequestContext({ requestId: id }, async () => {
        await sleep(delay);
        return currentRequestId();
      });
    expect(await Promise.all([one("a", 20), one("b", 1), one("c", 10)])).toEqual(["a", "b", "c"]);
  });

  test("caller-chosen ids are honoured only when they are ≤ 128 chars of [A-Za-z0-9._-]", () => {
    for (const ok of ["req-abc-123", "A.b_c-9", "x".repeat(128), randomUUID()]) expect([ok, isValidRequestId(ok)]).toEqual([ok, true]);
    for (const bad of ["", "x".repeat(129), "has space", "new\nline", "quote\"", "semi;colon", "ünïcode", 42, undefined, ["a"]]) {
      expect([bad, isValidRequestId(bad)]).toEqual([bad, false]);
    }
    expect(resolveRequestId("req-abc-123")).toBe("req-abc-123");
    expect(resolveRequestId("bad id")).toMatch(UUID);
    expect(resolveRequestId(undefined)).toMatch(UUID);
    expect(resolveRequestId(undefined)).not.toBe(resolveRequestId(undefined));
  });

  test("a bound subscription stream resolves each event inside the operation's context", async () => {
    async function* events() {
      for (let i = 0; i < 3; i++) {
        await sleep(1);
        yield currentRequestId();
      }
    }
    const stream = bindAsyncIterable({ requestId: "ws-op-1" }, events());
    const seen: (string | undefined)[] = [];
    // Pulled from outside any context, as graphql-ws's socket handler does.
    for await (const id of stream) seen.push(id);
    expect(seen).toEqual(["ws-op-1", "ws-op-1", "ws-op-1"]);
  });

  test("closing a bound stream early closes the source", async () => {
    let finalised = false;
    async function* forever() {
      try {
        for (;;) yield await new Promise((r) => setTimeout(() => r(1), 1));
      } finally {
        finalised = true;
      }
    }
    const stream = bindAsyncIterable({ requestId: "ws-op-2" }, forever());
    await stream.next();
    await stream.return!(undefined);
    expect(finalised).toBe(true);
  });
});

describe("request id in booking events", () => {
  test("an event built for a request carries its id and is valid against the strict envelope schema", () => {
    const e = envelope("req-abc-123");
    expect(e.requestId).toBe("req-abc-123");
    expect(bookingEventEnvelopeSchema.strict().safeParse(e).error).toBeUndefined();
  });

  test("an event built outside any request (a worker) has no requestId field at all", () => {
    const e = envelope();
    expect("requestId" in e).toBe(false);
    expect(bookingEventEnvelopeSchema.strict().safeParse(e).error).toBeUndefined();
  });

  test("an id the envelope schema would reject is left out rather than poisoning the event", () => {
    const e = envelope("not valid!");
    expect("requestId" in e).toBe(false);
    expect(bookingEventEnvelopeSchema.safeParse({ ...e, requestId: "not valid!" }).success).toBe(false);
  });
});

describe("requestIdMiddleware", () => {
  let server: ReturnType<ReturnType<typeof express>["listen"]>;
  let base: string;
  const accessLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split("\n").filter(Boolean)) accessLines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const app = express();
    app.use(requestIdMiddleware());
    app.use(httpAccessLog(pino({ level: "info" }, sink)));
    app.get("/healthz", (_req, res) => {
      res.json({ ok: true });
    });
    app.use(express.json({ limit: "1mb" }));
    app.post("/echo", async (req, res) => {
      await sleep(1);
      res.json({ seen: currentRequestId(), locals: res.locals.requestId, body: req.body as unknown });
    });
    await new Promise<void>((resolve) => {
      server = app.listen(0, "127.0.0.1", () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function post(headers: Record<string, string>) {
    const res = await fetch(`${base}/echo`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ big: "x".repeat(200_000) }) });
    const body = (await res.json()) as { seen?: string; locals?: string; body: { big: string } };
    return { header: res.headers.get("x-request-id"), seen: body.seen, locals: body.locals, bodyLength: body.body.big.length };
  }

  test("honours a valid x-request-id: echoed in the response and current in the handler (after body parsing)", async () => {
    expect(await post({ "x-request-id": "req-abc-123" })).toEqual({ header: "req-abc-123", seen: "req-abc-123", locals: "req-abc-123", bodyLength: 200_000 });
  });

  test("generates a UUID when the header is missing, and replaces an invalid one", async () => {
    const missing = await post({});
    expect(missing.header).toMatch(UUID);
    expect(missing.seen).toBe(missing.header);
    const invalid = await post({ "x-request-id": `${"y".repeat(129)}` });
    expect(invalid.header).toMatch(UUID);
    expect(invalid.seen).toBe(invalid.header);
  });

  test("the access log writes one line per request under its requestId, without headers, and skips probes", async () => {
    accessLines.length = 0;
    // The probe first: its line, were there one, would be written before the POST's.
    await fetch(`${base}/healthz`);
    await post({ "x-request-id": "req-access-1", authorization: "Bearer secret-token" });
    // pino-http writes on the response's "finish", which may come after the client has read it.
    for (let i = 0; i < 100 && accessLines.length === 0; i++) await sleep(20);
    const text = JSON.stringify(accessLines);
    expect(accessLines).toHaveLength(1);
    expect(accessLines[0]).toMatchObject({ requestId: "req-access-1", req: { method: "POST", url: "/echo" }, res: { statusCode: 200 }, msg: "request completed" });
    expect(text).not.toContain("secret-token");
  });
});
