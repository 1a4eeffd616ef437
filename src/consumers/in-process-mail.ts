import type { Config } from "../config";
import type { Db } from "../db/client";
import { EMULATOR_CREDENTIALS } from "../events/queue-setup";
import type { RelayHandle } from "../events/relay-setup";
import type { Logger } from "../logger";
import { createBookingConsumer, type BookingConsumer, type ConsumerName } from "./booking-consumer";
import { CONSUMER_QUEUE, createConsumerSqsClient } from "./consumer-config";
import { createSmtpTransport, MailNotifier } from "./mail-notifier";

/** Long poll of the in-process consumers, s: bounds how long a shutdown waits for the current poll. */
const WAIT_TIME_SECONDS = 5;

/** The API's own mail consumers; `stop()` finishes the messages in hand. */
export interface InProcessMail {
  stop(): Promise<void>;
}

/**
 * Runs the provider and customer consumers inside the API process with the {@link MailNotifier},
 * on the queues this instance's relay sends to (the embedded emulator when nothing is
 * configured). This is how e-mail works with the embedded database, which no other process can
 * open; with PostgreSQL it saves running the consumer processes. Each instance that has
 * `SMTP_URL` runs them: they compete for messages, and `processed_events` keeps each mail single.
 *
 * @returns undefined when this instance knows no queues (relay off and no SQS configured)
 */
export function startInProcessMail(config: Config & { mail: NonNullable<Config["mail"]> }, db: Db, relay: RelayHandle | undefined, log: Logger): InProcessMail | undefined {
  const routes = relay?.routes ?? (config.sqsConfigured ? config.queues : undefined);
  if (!routes) {
    log.warn("SMTP_URL is set but this instance has no queues (OUTBOX_RELAY=off and no SQS configured): it sends no e-mail");
    return undefined;
  }
  const emulator = relay?.emulator;
  const sqs = createConsumerSqsClient({
    region: config.aws.region,
    endpoint: emulator?.endpoint ?? config.aws.sqsEndpoint,
    credentials: emulator ? EMULATOR_CREDENTIALS : undefined,
    waitTimeSeconds: WAIT_TIME_SECONDS,
  });
  const transport = createSmtpTransport(config.mail.smtpUrl);
  const mailLog = log.child({ component: "mail" });
  const notifier = new MailNotifier(transport, config.mail.from, mailLog);
  const consumers: BookingConsumer[] = [];
  for (const name of ["provider", "customer"] as const satisfies readonly ConsumerName[]) {
    const queueUrl = routes[CONSUMER_QUEUE[name]];
    if (!queueUrl) {
      mailLog.warn({ consumer: name }, `no ${CONSUMER_QUEUE[name]} queue configured: the ${name} consumer's e-mail is not sent`);
      continue;
    }
    const consumer = createBookingConsumer({ name, queueUrl, sqs, db, notifier, log: mailLog, waitTimeSeconds: WAIT_TIME_SECONDS });
    consumer.start();
    consumers.push(consumer);
  }
  mailLog.info({ consumers: consumers.map((c) => c.name) }, "e-mail consumers running in this process");
  return {
    stop: async () => {
      await Promise.all(consumers.map((c) => c.stop()));
      sqs.destroy();
      transport.close();
    },
  };
}
