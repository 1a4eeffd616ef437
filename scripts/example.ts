/**
 * `npm run example`: the README's "The API in one example", run step by step against a running
 * server, printing each operation, its variables, whose token it carries and the answer.
 *
 * Usage:
 *   npm start                                          # in another terminal
 *   npm run example                                    # http://127.0.0.1:4000/graphql
 *   npm run example -- --url https://host/graphql      # or EXAMPLE_URL=...
 *
 * It registers a provider and a customer with fresh e-mail addresses, so it can run any number of
 * times against the same database, and publishes availability for tomorrow (UTC), so it works on
 * any day. Exit code 0 when every step answered as described, 1 otherwise.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { endpointsOf, openWsClient, request, sleep } from "./demo/graphql";

export const DEFAULT_URL = "http://127.0.0.1:4000/graphql";
// graphql-ws has no acknowledgement for a subscribe: time for it to reach the server's pub/sub.
const SUBSCRIBE_SETTLE_MS = 1_000;
const EVENT_WAIT_MS = 10_000;

/** One step of the example; `variables` is how the README describes the values the script fills in. */
export interface ExampleStep {
  title: string;
  /** Whose `Authorization: Bearer <accessToken>` the step sends; undefined: none. */
  as?: "provider" | "customer";
  document: string;
  variables: string;
}

/** The steps in order; the README's example block is rendered from them (see {@link renderReadmeExample}). */
export const EXAMPLE_STEPS = {
  registerProvider: {
    title: "register a provider account (no token needed; a fresh e-mail each run)",
    document: "mutation RegisterProvider($input: RegisterInput!) { register(input: $input) { accessToken user { id email role } } }",
    variables: `{ "input": { "email": "dr-<fresh>@example.com", "password": "correct horse battery", "name": "Dr. Who", "role": "PROVIDER" } }`,
  },
  createProvider: {
    title: "create its bookable profile",
    as: "provider",
    document: "mutation CreateProvider($input: CreateProviderInput!) { createProvider(input: $input) { id name timeZone requiresConfirmation } }",
    variables: `{ "input": { "name": "Dr. Who", "timeZone": "Europe/Berlin" } }`,
  },
  addAvailability: {
    title: "publish two hours tomorrow (UTC) as 30-minute slots",
    as: "provider",
    document: "mutation AddAvailability($input: AddAvailabilityInput!) { addAvailability(input: $input) { id startsAt endsAt status } }",
    variables: `{ "input": { "providerId": "<createProvider.id>", "startsAt": "<tomorrow>T08:00:00Z", "endsAt": "<tomorrow>T10:00:00Z", "slotMinutes": 30 } }`,
  },
  availableSlots: {
    title: "what anyone can book tomorrow (no token needed)",
    document: "query AvailableSlots($providerId: ID!, $from: DateTimeISO!, $to: DateTimeISO!) { availableSlots(providerId: $providerId, from: $from, to: $to) { id startsAt status } }",
    variables: `{ "providerId": "<createProvider.id>", "from": "<tomorrow>T00:00:00Z", "to": "<the day after>T00:00:00Z" }`,
  },
  registerCustomer: {
    title: "register a customer account (no token needed; a fresh e-mail each run)",
    document: "mutation RegisterCustomer($input: RegisterInput!) { register(input: $input) { accessToken user { id email role } } }",
    variables: `{ "input": { "email": "amy-<fresh>@example.com", "password": "fish fingers and custard", "name": "Amy Pond", "role": "CUSTOMER" } }`,
  },
  createBooking: {
    title: "book the first slot: the booking is PENDING, the slot HELD",
    as: "customer",
    document: "mutation CreateBooking($input: CreateBookingInput!) { createBooking(input: $input) { id status holdExpiresAt slot { startsAt status } } }",
    variables: `{ "input": { "slotId": "<availableSlots[0].id>", "idempotencyKey": "<a fresh UUID>" } }`,
  },
  bookingStatusChanged: {
    title: "listen on graphql-ws (keep the socket open)",
    as: "customer",
    document: "subscription BookingStatusChanged($bookingId: ID!) { bookingStatusChanged(bookingId: $bookingId) { eventType previousStatus booking { status } } }",
    variables: `{ "bookingId": "<createBooking.id>" }`,
  },
  acceptBooking: {
    title: "accept: the booking is CONFIRMED, and step 7 receives BOOKING_CONFIRMED",
    as: "provider",
    document: "mutation AcceptBooking($id: ID!) { acceptBooking(id: $id) { status history { fromStatus toStatus at reason } } }",
    variables: `{ "id": "<createBooking.id>" }`,
  },
} as const satisfies Record<string, ExampleStep>;

/** The README's example block (without the fences): each step's title, document and variables. */
export function renderReadmeExample(): string {
  return Object.values(EXAMPLE_STEPS)
    .map((s: ExampleStep, i) => `# ${i + 1}. ${s.as ? `as the ${s.as}: ` : ""}${s.title}\n${s.document}\n#    variables: ${s.variables}`)
    .join("\n");
}

/** What the run produced, for callers that check it (the e2e test). */
export interface ExampleResult {
  providerId: string;
  slotIds: string[];
  bookingId: string;
  bookingStatus: string;
  /** The event the subscription received after the accept. */
  event: { eventType: string; previousStatus: string | null; booking: { status: string } };
}

type Token = { accessToken: string };
type Auth = { register: Token & { user: { id: string; email: string; role: string } } };

/** Start of the UTC day `days` after `now`'s, as an ISO date (`YYYY-MM-DD`). */
function utcDay(now: Date, days: number): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days));
  return d.toISOString().slice(0, 10);
}

const abbreviated = (token: string) => `${token.slice(0, 12)}…${token.slice(-6)}`;

/**
 * Runs every step against `url` (`http(s)://host:port/graphql`), writing a transcript to `out`.
 *
 * @param now - "today", for the dates (default: the clock)
 * @throws GraphQLRequestError when a step answers with errors; Error when the event never arrives
 */
export async function runExample(url: string, out: (line: string) => void, now = new Date()): Promise<ExampleResult> {
  const { wsUrl } = endpointsOf(url);
  const tokens: Partial<Record<"provider" | "customer", string>> = {};
  let n = 0;
  const show = (step: ExampleStep, variables: unknown) => {
    const token = step.as && abbreviated(tokens[step.as]!);
    const sent = step.document.startsWith("subscription") ? `graphql-ws connectionParams { authorization: "Bearer ${token}" }` : `Authorization: Bearer ${token}`;
    const who = step.as ? `as the ${step.as}: ${sent}` : "no token";
    out(`\n# ${++n}. ${step.title}\n# (${who})\n${step.document}\n# variables: ${JSON.stringify(variables)}`);
  };
  const run = async <T>(step: ExampleStep, variables: Record<string, unknown>): Promise<T> => {
    show(step, variables);
    const data = await request<T>(url, step.document, variables, step.as && tokens[step.as]);
    out(`# => ${JSON.stringify(data, null, 2).replace(/\n/g, "\n#    ")}`);
    return data;
  };
  const fresh = randomUUID().slice(0, 8);
  const [tomorrow, dayAfter] = [utcDay(now, 1), utcDay(now, 2)];

  const provider = await run<Auth>(EXAMPLE_STEPS.registerProvider, {
    input: { email: `dr-${fresh}@example.com`, password: "correct horse battery", name: "Dr. Who", role: "PROVIDER" },
  });
  tokens.provider = provider.register.accessToken;
  const { createProvider } = await run<{ createProvider: { id: string } }>(EXAMPLE_STEPS.createProvider, { input: { name: "Dr. Who", timeZone: "Europe/Berlin" } });
  await run(EXAMPLE_STEPS.addAvailability, {
    input: { providerId: createProvider.id, startsAt: `${tomorrow}T08:00:00Z`, endsAt: `${tomorrow}T10:00:00Z`, slotMinutes: 30 },
  });
  const { availableSlots } = await run<{ availableSlots: { id: string }[] }>(EXAMPLE_STEPS.availableSlots, {
    providerId: createProvider.id,
    from: `${tomorrow}T00:00:00Z`,
    to: `${dayAfter}T00:00:00Z`,
  });
  const customer = await run<Auth>(EXAMPLE_STEPS.registerCustomer, {
    input: { email: `amy-${fresh}@example.com`, password: "fish fingers and custard", name: "Amy Pond", role: "CUSTOMER" },
  });
  tokens.customer = customer.register.accessToken;
  const { createBooking } = await run<{ createBooking: { id: string } }>(EXAMPLE_STEPS.createBooking, {
    input: { slotId: availableSlots[0]!.id, idempotencyKey: randomUUID() },
  });

  const step = EXAMPLE_STEPS.bookingStatusChanged;
  show(step, { bookingId: createBooking.id });
  const ws = openWsClient(wsUrl, tokens.customer);
  try {
    await ws.connected;
    const event = new Promise<ExampleResult["event"]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no bookingStatusChanged event within ${EVENT_WAIT_MS} ms of the accept`)), SUBSCRIBE_SETTLE_MS + EVENT_WAIT_MS);
      ws.client.subscribe<{ bookingStatusChanged: ExampleResult["event"] }>(
        { query: step.document, variables: { bookingId: createBooking.id } },
        {
          next: (msg) => {
            clearTimeout(timer);
            if (msg.errors?.length || !msg.data) reject(new Error(`subscription error: ${JSON.stringify(msg.errors)}`));
            else resolve(msg.data.bookingStatusChanged);
          },
          error: (err) => {
            clearTimeout(timer);
            reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
          },
          complete: () => undefined,
        },
      );
    });
    event.catch(() => undefined); // awaited below; until then a rejection must not count as unhandled
    out("# (listening)");
    await sleep(SUBSCRIBE_SETTLE_MS);
    const { acceptBooking } = await run<{ acceptBooking: { status: string } }>(EXAMPLE_STEPS.acceptBooking, { id: createBooking.id });
    const received = await event;
    if (acceptBooking.status !== "CONFIRMED" || received.eventType !== "BOOKING_CONFIRMED") {
      throw new Error(`expected a CONFIRMED booking and a BOOKING_CONFIRMED event; got ${acceptBooking.status} and ${received.eventType}`);
    }
    out(`\n# step ${n - 1}'s subscription received:\n# => ${JSON.stringify({ bookingStatusChanged: received }, null, 2).replace(/\n/g, "\n#    ")}`);
    return { providerId: createProvider.id, slotIds: availableSlots.map((s) => s.id), bookingId: createBooking.id, bookingStatus: acceptBooking.status, event: received };
  } finally {
    await ws.client.dispose();
  }
}

/** The CLI: `--url` (or `EXAMPLE_URL`), default {@link DEFAULT_URL}. Returns the exit code. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { url: { type: "string" }, help: { type: "boolean", default: false } } });
  if (values.help) {
    process.stdout.write("usage: npm run example [-- --url http://127.0.0.1:4000/graphql]\n");
    return 0;
  }
  const url = values.url ?? (process.env.EXAMPLE_URL || DEFAULT_URL);
  let healthUrl: string;
  try {
    healthUrl = endpointsOf(url).healthUrl;
  } catch {
    process.stderr.write(`Not a URL: ${url} (expected e.g. ${DEFAULT_URL})\n`);
    return 1;
  }
  const healthy = await fetch(healthUrl, { signal: AbortSignal.timeout(3_000) }).then((r) => r.ok, () => false);
  if (!healthy) {
    process.stderr.write(`No Slotwise server answers at ${healthUrl}. Start one with \`npm start\` (or pass --url).\n`);
    return 1;
  }
  process.stdout.write(`# Slotwise at ${url}\n`);
  try {
    await runExample(url, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write("\n# done: every step answered as described\n");
    return 0;
  } catch (err) {
    process.stderr.write(`\nexample failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
