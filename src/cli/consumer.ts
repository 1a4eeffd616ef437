import { exitGracefullyOnSignals } from "../shutdown-signals";
import { ConfigError, loadConfig, type Config } from "../config";
import { createBookingConsumer, HANDLED_EVENT_TYPES, type ConsumerName } from "../consumers/booking-consumer";
import { ConsumerSetupError, openConsumerDatabase, resolveConsumerQueue, type ConsumerQueue } from "../consumers/consumer-config";
import { createSmtpTransport, MailNotifier } from "../consumers/mail-notifier";
import { LogNotifier, type Notifier } from "../consumers/notifier";
import { createLogger } from "../logger";

const USAGE = "usage: npm run consumer -- provider|customer\n";
// A graceful stop lets the current long poll finish (sqs-consumer stop without abort, so no
// receive is cut off mid-response), so this bounds how long SIGTERM takes when idle. 5 s keeps
// shutdown prompt at the cost of a few more empty receives than SQS's 20 s maximum.
const WAIT_TIME_SECONDS = 5;

/**
 * `npm run consumer -- provider|customer`: a notification consumer on SQS (issue 3).
 * `provider` notifies providers' owners of new booking requests; `customer` notifies customers of
 * every change to their bookings, and owners of customer cancellations and reschedules (see
 * CONSUMER_ROUTES). With `SMTP_URL` and `MAIL_FROM` they are e-mails with calendar invites, read
 * from the API's database (`DATABASE_URL`, required then); otherwise structured log lines.
 * SIGTERM/SIGINT stop it gracefully (the message being handled is finished and deleted);
 * a second signal exits at once.
 */
async function main(): Promise<void> {
  const consumerName = consumerNameOrExit(process.argv[2]);
  const config = configOrExit();
  const log = createLogger(config.logLevel);
  if (config.mail && !config.databaseUrl) {
    // The embedded PGlite of `npm start` belongs to that process; a consumer's own has no users.
    exit(1, "SMTP_URL is set but DATABASE_URL is not: e-mail needs the API's database, for the addresses and the bookings' history.\n");
  }
  const queue = await queueOrExit(config, consumerName);
  const database = await openConsumerDatabase(config, consumerName);
  const transport = config.mail ? createSmtpTransport(config.mail.smtpUrl) : undefined;
  const notifier: Notifier = transport && config.mail ? new MailNotifier(transport, config.mail.from, log) : new LogNotifier(log);
  const consumer = createBookingConsumer({
    name: consumerName,
    queueUrl: queue.queueUrl,
    sqs: queue.sqs,
    db: database.db,
    notifier,
    log,
    waitTimeSeconds: WAIT_TIME_SECONDS,
  });
  consumer.start();
  log.info(
    {
      consumer: consumerName,
      queueUrl: queue.queueUrl,
      endpoint: queue.endpoint ?? "AWS default",
      sqs: queue.source,
      handles: HANDLED_EVENT_TYPES[consumerName],
      notifier: transport ? "smtp" : "log",
      processedEventStore: database.kind === "postgres" ? "DATABASE_URL" : `PGlite ${config.consumerStateDir}/${consumerName}`,
    },
    `${consumerName} consumer listening on ${queue.queueUrl}`,
  );

  exitGracefullyOnSignals({
    log,
    message: "stopping: finishing the current poll and the messages in flight",
    forcedMessage: "second signal: exiting now (an unfinished message will be redelivered)",
    stop: async () => {
      await consumer.stop();
      queue.sqs.destroy();
      transport?.close();
      await database.close();
      log.info("consumer stopped");
    },
  });
}

/** Writes `message` to stderr and ends the process with `code`. */
function exit(code: number, message: string): never {
  process.stderr.write(message);
  process.exit(code);
}

/** The consumer named on the command line; anything else prints the usage and exits 2. */
function consumerNameOrExit(arg: string | undefined): ConsumerName {
  if (arg !== "provider" && arg !== "customer") exit(2, USAGE);
  return arg;
}

/** The configuration; an invalid environment prints every problem and exits 1. */
function configOrExit(): Config {
  try {
    return loadConfig(undefined, { role: "tool" });
  } catch (err) {
    if (err instanceof ConfigError) exit(1, `${err.message}\n`);
    throw err;
  }
}

/** The consumer's queue; one it cannot find prints what to configure or start and exits 1. */
async function queueOrExit(config: Config, name: ConsumerName): Promise<ConsumerQueue> {
  try {
    return await resolveConsumerQueue(config, name, WAIT_TIME_SECONDS);
  } catch (err) {
    if (err instanceof ConsumerSetupError) exit(1, `${err.message}\n`);
    throw err;
  }
}

main().catch((err) => {
  process.stderr.write(`consumer failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
