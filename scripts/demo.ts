/**
 * `npm run demo`: Slotwise on realistic input, checked end to end.
 *
 * Usage:
 *   npm run demo                                   # uses http://127.0.0.1:4000/graphql if it answers,
 *                                                  # else starts a server in this process (in-memory PGlite)
 *   npm run demo -- --url http://host:4000/graphql # a given server (or DEMO_URL=...); it must answer /healthz
 *   npm run demo -- --seed 42                      # repeat a run's random choices
 *   npm run demo -- --customers 200 --providers 18
 *   npm run demo -- --url … --smtp-port 2525       # check the e-mail of a server started with
 *                                                  # SMTP_URL=smtp://127.0.0.1:2525 (a started-here server always mails the demo)
 *
 * Webhooks are checked whenever the server runs on this machine (started here, or a running one on
 * a loopback URL): each provider's owner registers an endpoint on a receiver the demo runs on
 * 127.0.0.1, every request's signature is verified with `standardwebhooks`, and the deliveries
 * (deduplicated on webhook-id) must be exactly each booking's history, in order.
 *
 * It creates providers (each by its own PROVIDER account) in six time zones. Most publish a
 * weekly schedule in their own zone with setSchedule (lunch breaks, buffers, a minimum notice,
 * a 14-day horizon, date overrides; one replaces its schedule), two publish one-off windows
 * with addAvailability and one does both; the bookable slots of the coming week are read with
 * availableSlots and checked against the plans. Customers book concurrently (racers for a few
 * popular slots fire in the same tick), owners accept and reject, customers reschedule (some
 * racing for one slot) and cancel, while real graphql-ws listeners follow every provider, a
 * sample of bookings and two providers' slots.
 * Expectations come only from the demo's own mutation answers; the summary compares them with
 * what each listener received and with the server's providerBookings. Exit code 0 only when
 * everything matched; 1 otherwise.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import type { Client } from "graphql-ws";
import { openWsClient, sleep } from "./demo/graphql";
import { Ledger, type Account, type BookingRecord } from "./demo/ledger";
import { listenToBooking, listenToProvider, listenToSlots, waitForQuiet, type Listener } from "./demo/listeners";
import { Random } from "./demo/random";
import { popularSlot, publishAvailability } from "./demo/availability";
import { checkRescheduleRaces, customersReschedule } from "./demo/reschedules";
import { bookingRush, customersCancel, providersDecide, type ScenarioContext } from "./demo/scenario-actions";
import { createProviders, registerCustomers } from "./demo/scenario-setup";
import { passed, renderSummary } from "./demo/summary";
import { checkMails, expectedMails, startSmtpSink, waitForMails } from "./demo/mail";
import { DEFAULT_URL, isLoopbackTarget, resolveTarget } from "./demo/target";
import { checkWebhooks, closeOwnerEndpoints, createOwnerEndpoints, waitForDeliveries, type OwnerEndpoint } from "./demo/webhooks";
import { endpointsOf } from "./demo/graphql";
import {
  checkBookingListener,
  checkFinalAvailability,
  checkRaces,
  checkServerState,
  checkSlotListener,
  entitledBookingEvents,
  expectedCount,
  fetchProviderBookings,
} from "./demo/verify";
import type { ServerBooking } from "./demo/operations";

const POPULAR_SLOTS = 5;
const RACERS_PER_POPULAR_SLOT = 30;
const SAMPLED_PENDING = 15;
const SAMPLED_CONFIRMED = 5;
const RESCHEDULES = { single: 8, races: 2, racersPerRace: 3 };
// Time for a just-sent subscribe message to reach the server's pub/sub; graphql-ws has no ack for it.
const SUBSCRIBE_SETTLE_MS = 750;

function progress(message: string): void {
  process.stderr.write(`[demo] ${message}\n`);
}

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      seed: { type: "string" },
      customers: { type: "string", default: "120" },
      providers: { type: "string", default: "12" },
      "smtp-port": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const int = (v: string | undefined, name: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  return {
    help: values.help,
    url: values.url ?? (process.env.DEMO_URL || undefined),
    seed: values.seed === undefined ? randomBytes(4).readUInt32BE() : int(values.seed, "seed", 0),
    customers: int(values.customers, "customers", RACERS_PER_POPULAR_SLOT),
    providers: int(values.providers, "providers", POPULAR_SLOTS),
    smtpPort: values["smtp-port"] === undefined ? undefined : int(values["smtp-port"], "smtp-port", 1),
  };
}

async function serverAnswers(): Promise<boolean> {
  try {
    return (await fetch(endpointsOf(DEFAULT_URL).healthUrl, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const opts = options();
  if (opts.help) {
    process.stdout.write("usage: npm run demo -- [--url http://127.0.0.1:4000/graphql] [--seed N] [--customers N] [--providers N]\n");
    return 0;
  }
  const started = Date.now();
  const phases: { name: string; ms: number }[] = [];
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    progress(`${name}...`);
    const result = await fn();
    phases.push({ name, ms: Date.now() - t0 });
    return result;
  };

  // E-mail is checked when the demo starts the server, or when told where the server sends it.
  const external = Boolean(opts.url) || (await serverAnswers());
  const sink = !external || opts.smtpPort !== undefined ? await startSmtpSink({ port: opts.smtpPort ?? 0 }) : undefined;
  const target = await resolveTarget(opts.url, sink?.url);
  progress(`target: ${target.description}; seed ${opts.seed}${sink ? `; SMTP server on ${sink.url}` : "; e-mail not checked (no --smtp-port)"}`);
  const clients: Client[] = [];
  const listeners: Listener[] = [];
  const entitledFrom = new Map<Listener, number>();
  let webhookEndpoints: OwnerEndpoint[] | undefined;
  try {
    const runId = randomBytes(4).toString("hex");
    const ledger = new Ledger();
    const rng = new Random(opts.seed);
    const connect = async (token?: string) => {
      const { client, connected } = openWsClient(target.wsUrl, token);
      clients.push(client);
      await connected;
      return client;
    };

    const providers = await phase("providers", () => createProviders(target.url, runId, opts.providers));
    const popularProviders = providers.slice(0, POPULAR_SLOTS);
    if (isLoopbackTarget(target)) webhookEndpoints = await phase("webhook endpoints", () => createOwnerEndpoints(target.url, providers));
    else progress("webhooks not checked: the server is not on this machine, so it cannot reach a receiver on 127.0.0.1");
    // Slots of the republishing schedule provider and of a one-off provider are followed from before they exist.
    const slotWatched = [providers.find((p) => p.plan.republish) ?? providers[0]!, providers.find((p) => p.plan.mode === "one-off")].filter(
      (p): p is (typeof providers)[number] => p !== undefined,
    );
    await phase("provider listeners", async () => {
      const ownerClients = await Promise.all(providers.map((p) => connect(p.owner.token)));
      providers.forEach((p, i) => listeners.push(listenToProvider(ownerClients[i]!, p.id, `owner of ${p.name}`)));
      const anonymous = await connect();
      for (const p of slotWatched) listeners.push(listenToSlots(anonymous, p.id, `anonymous, slots of ${p.name}`));
      await sleep(SUBSCRIBE_SETTLE_MS);
    });
    const availabilityProblems: string[] = [];
    await phase("availability", () => publishAvailability(target.url, providers, ledger, availabilityProblems));
    const customers = await phase("customers", () => registerCustomers(target.url, runId, opts.customers));
    const ctx: ScenarioContext = { url: target.url, runId, ledger, rng, providers, customers };

    const popular = popularProviders.map(popularSlot);
    const customerClients = new Map<string, Promise<Client>>();
    const sampled = { PENDING: 0, CONFIRMED: 0 };
    const followed = new Set<string>();
    const subscriptions: Promise<void>[] = [];
    const followBooking = (record: BookingRecord, customer: Account) => {
      const key = record.status === "PENDING" ? "PENDING" : "CONFIRMED";
      if (sampled[key] >= (key === "PENDING" ? SAMPLED_PENDING : SAMPLED_CONFIRMED)) return;
      sampled[key]++;
      followed.add(record.id);
      // Entitled only to what happens after this moment: the creation events are already out.
      const from = record.events.length;
      if (!customerClients.has(customer.id)) customerClients.set(customer.id, connect(customer.token));
      subscriptions.push(
        customerClients.get(customer.id)!.then((client) => {
          const l = listenToBooking(client, record.id, `${customer.name}, booking ${record.id.slice(0, 8)}`);
          entitledFrom.set(l, from);
          listeners.push(l);
        }),
      );
    };
    await phase("booking rush", async () => {
      await bookingRush(ctx, popular, RACERS_PER_POPULAR_SLOT, followBooking);
      await Promise.all(subscriptions);
      await sleep(SUBSCRIBE_SETTLE_MS);
    });
    await phase("owners decide", () => providersDecide(ctx));
    await phase("customers reschedule", () => customersReschedule(ctx, RESCHEDULES, followed));
    await phase("customers cancel", () => customersCancel(ctx));

    const providerById = new Map(providers.map((p) => [p.id, p]));
    const slotsOf = (providerId: string) => providerById.get(providerId)?.knownSlots.values() ?? [];
    const quiet = await waitForQuiet(listeners, (l) => expectedCount(l, ledger, entitledFrom, slotsOf));

    const serverBookings = new Map<string, ServerBooking[]>();
    const finalAvailabilityProblems = await phase("verify", async () => {
      for (const p of providers) serverBookings.set(p.id, await fetchProviderBookings(target.url, p));
      return checkFinalAvailability(target.url, providers, ledger);
    });
    const mail = sink
      ? await phase("e-mail", async () => {
          await waitForMails(sink, expectedMails(ledger));
          return checkMails(sink, ledger, customers, new Map(providers.map((p) => [p.id, p.owner])));
        })
      : undefined;
    const endpoints = webhookEndpoints;
    const webhooks = endpoints
      ? await phase("webhooks", async () => {
          await waitForDeliveries(endpoints, ledger);
          return checkWebhooks(endpoints, ledger);
        })
      : undefined;
    const outcome = {
      target: target.description,
      mail,
      webhooks,
      seed: opts.seed,
      providers,
      customers: customers.length,
      ledger,
      server: checkServerState(ledger, providers, serverBookings),
      raceProblems: [...checkRaces(ledger, popular), ...checkRescheduleRaces(ctx)],
      availabilityProblems,
      finalAvailabilityProblems,
      listeners: listeners.map((l) =>
        l.kind === "slotAvailabilityChanged"
          ? checkSlotListener(l, providerById.get(l.target)!, ledger)
          : checkBookingListener(l, entitledBookingEvents(l, ledger, entitledFrom)),
      ),
      quietWaitMs: quiet.waitedMs,
      phases,
      elapsedMs: Date.now() - started,
    };
    process.stdout.write(`\n${renderSummary(outcome)}\n`);
    return passed(outcome) ? 0 : 1;
  } finally {
    for (const l of listeners) l.stop();
    await Promise.all(clients.map((c) => c.dispose()));
    await target.stop();
    await sink?.close();
    if (webhookEndpoints) await closeOwnerEndpoints(webhookEndpoints);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Anything still holding the event loop open must not keep a finished demo alive.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`[demo] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
