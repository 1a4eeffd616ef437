/**
 * The shape of `bench/results/<date>.json`, written by `npm run bench` and read back by the
 * report renderer (docs/benchmarks.md). Every latency is in milliseconds, every duration in
 * seconds unless its name says otherwise; memory is in bytes.
 */
import type { Distribution } from "./stats";

/** The machine one run measured, read when the run started (load averages at start and end). */
export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  platform: string;
  node: string;
  postgres: string;
  redis: string;
  /** os.loadavg() (1, 5, 15 min). */
  loadAverage: { atStart: number[]; atEnd: number[] };
}

/** One concurrency level of a closed-loop load: `clients` callers, each waiting for its answer before the next call. */
export interface LoadPoint {
  clients: number;
  /** Database connections the load could use: the pool size, or pgbench's connections when max_connections capped them. */
  connections?: number;
  /** Calls that succeeded (bookings made). */
  operations: number;
  /** Calls that failed; a correct run has none. */
  errors: number;
  seconds: number;
  /** operations / seconds. */
  perSecond: number;
  latency: Distribution;
}

/** Scenario 1: createBooking on distinct slots, three ways, same client counts. */
export interface ThroughputResult {
  /** GraphQL over HTTP to the server process. */
  http: LoadPoint[];
  /** BookingCreateService.createBooking in the load generator's process: no HTTP, no GraphQL. */
  service: LoadPoint[];
  /** pgbench running the booking transaction's essential SQL. */
  pgbench: LoadPoint[];
  /** Per client count: http / service and http / pgbench bookings per second. */
  ratios: { clients: number; httpOverService: number; httpOverPgbench: number; serviceOverPgbench: number }[];
  /** The pgbench script, for the report. */
  pgbenchScript: string;
  /** Every booking made is in the database once and no slot has two active bookings. */
  verified: boolean;
  detail: string;
}

/** Scenario 2: `calls` concurrent createBooking calls for one slot over HTTP. */
export interface ContentionResult {
  calls: number;
  /** Active bookings of the slot in the database afterwards: must be 1. */
  bookingsInDatabase: number;
  /** Calls answered with a booking: must be 1. */
  winners: number;
  /** Calls answered with extensions.code CONFLICT: must be calls - 1. */
  conflicts: number;
  /** Anything else (a bug, a timeout): must be 0. */
  otherErrors: number;
  seconds: number;
  winnerLatencyMs: number;
  loserLatency: Distribution;
  /**
   * Same-run baseline: as many concurrent BookingCreateService.createBooking calls for another
   * single slot, in the load generator's process (no HTTP, no GraphQL, no per-request auth).
   */
  service?: { calls: number; winners: number; conflicts: number; otherErrors: number; seconds: number; loserLatency: Distribution };
  /** HTTP loser latency / service loser latency. */
  ratioLoserP50?: number;
  ratioLoserP99?: number;
  verified: boolean;
}

/** Scenario 3: live fan-out over Redis. */
export interface FanoutResult {
  latency: {
    samples: number;
    /** acceptBooking's HTTP round trip. */
    mutationRoundTrip: Distribution;
    /** From sending acceptBooking to a graphql-ws subscriber receiving the event. */
    mutationToEvent: Distribution;
    /** mutationToEvent p50 / mutationRoundTrip p50. */
    ratioP50: number;
    ratioP99: number;
    missing: number;
  };
  capacity: {
    /** graphql-ws connections, one subscription each, held at once by one server process. */
    subscribers: number;
    failed: number;
    connectSeconds: number;
    /** Server process, after a forced GC, before the subscribers connected and with all of them connected. */
    heapUsedBefore: number;
    heapUsedAfter: number;
    rssBefore: number;
    rssAfter: number;
    heapPerSubscriber: number;
    rssPerSubscriber: number;
  };
  broadcast: {
    subscribers: number;
    events: number;
    /** Per event: from sending the mutation to the first / median / last subscriber receiving it. */
    toFirst: Distribution;
    toMedian: Distribution;
    toLast: Distribution;
    /** Deliveries that never arrived (subscribers x events - received). */
    missing: number;
    /** The same deliveries, measured as events per second at the slowest subscriber. */
    deliveriesPerSecond: number;
  };
  /**
   * Same-run baseline: the physical limit underneath. A bare `ws` server in a process of its
   * own holds as many plain WebSocket connections and sends one frame of the same size to all of
   * them (no GraphQL, no Redis, no per-subscriber execution); the same client code measures it.
   */
  raw?: {
    connections: number;
    failed: number;
    connectSeconds: number;
    heapPerConnection: number;
    rssPerConnection: number;
    events: number;
    toFirst: Distribution;
    toMedian: Distribution;
    toLast: Distribution;
    missing: number;
  };
  /** broadcast.toLast p50 / raw.toLast p50, and heap per subscriber / heap per raw connection. */
  ratios?: { broadcastLastP50: number; heapPerSubscriber: number; connectSeconds: number };
  verified: boolean;
  detail: string;
}

/** Scenario 4: availableSlots over a 30-day window. */
export interface SlotQueryResult {
  providerSlots: number;
  bookings: number;
  windowDays: number;
  slotsReturned: number;
  samples: number;
  graphql: Distribution;
  sql: Distribution;
  ratioP50: number;
  ratioP99: number;
  /** The GraphQL answer lists the same slot ids, in the same order, as the bare SQL. */
  verified: boolean;
}

/** Scenario 5: the JSON `npm run bench:relay` wrote, kept whole, plus where it came from. */
export interface RelayScenarioResult {
  file: string;
  verified: boolean;
  raw: { messages: number; seconds: number; messagesPerSecond: number; concurrency: number };
  relay: { events: number; messages: number; seconds: number; eventsPerSecond: number; messagesPerSecond: number; rounds: number };
  ratio: { messages: number; events: number };
  latency: { bookings: number; ratePerSecond: number; commitToQueue: Distribution; serviceCall: Distribution; missing: number };
}

/** One named check; `npm run bench` exits 1 when any fails (never because of a timing). */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  mode: "full" | "quick";
  machine: Machine;
  /** Wall time of each scenario, seconds. */
  scenarioSeconds: Record<string, number>;
  throughput?: ThroughputResult;
  contention?: ContentionResult;
  fanout?: FanoutResult;
  slotQueries?: SlotQueryResult;
  relay?: RelayScenarioResult;
  checks: Check[];
}
