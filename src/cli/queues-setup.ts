import { parseArgs } from "node:util";
import { loadConfig } from "../config";
import { createSqsClient, ensureQueues } from "../events/queue-setup";

/**
 * `npm run queues:setup [-- --fifo] [--max-receive-count 5] [--visibility-timeout 30]`
 *
 * Creates `booking-request-queue`, `booking-confirmation-queue` and `booking-events-queue`
 * with their `-dlq` twins (redrive policy) on the SQS endpoint of `AWS_ENDPOINT_URL_SQS`
 * (AWS itself when unset; ElasticMQ or the embedded emulator otherwise). Safe to run again:
 * existing queues are kept. Prints the queue URLs as `SQS_*_QUEUE_URL=` lines.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fifo: { type: "boolean", default: false },
      "max-receive-count": { type: "string", default: "5" },
      "visibility-timeout": { type: "string", default: "30" },
    },
  });
  const config = loadConfig(undefined, { role: "tool" });
  const sqs = createSqsClient({ region: config.aws.region, endpoint: config.aws.sqsEndpoint });
  try {
    const urls = await ensureQueues(sqs, {
      fifo: values.fifo,
      maxReceiveCount: Number(values["max-receive-count"]),
      visibilityTimeoutSeconds: Number(values["visibility-timeout"]),
    });
    process.stdout.write(
      [
        `SQS_BOOKING_REQUEST_QUEUE_URL=${urls.bookingRequest}`,
        `SQS_BOOKING_CONFIRMATION_QUEUE_URL=${urls.bookingConfirmation}`,
        `SQS_BOOKING_EVENTS_QUEUE_URL=${urls.bookingEvents}`,
        "",
      ].join("\n"),
    );
  } finally {
    sqs.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`queues:setup failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
