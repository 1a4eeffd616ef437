import { createServer } from "node:net";
import { loadConfig } from "../../src/config";
import { ConsumerSetupError, resolveConsumerQueue } from "../../src/consumers/consumer-config";

/** A TCP port on 127.0.0.1 with nothing listening (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("consumer queue resolution", () => {
  test("with SQS configured, each consumer uses its queue URL from the environment", async () => {
    const config = loadConfig({
      NODE_ENV: "test",
      AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:9",
      SQS_BOOKING_REQUEST_QUEUE_URL: "http://127.0.0.1:9/000000000000/booking-request-queue",
      SQS_BOOKING_EVENTS_QUEUE_URL: "http://127.0.0.1:9/000000000000/booking-events-queue",
    });
    const provider = await resolveConsumerQueue(config, "provider", 1);
    const customer = await resolveConsumerQueue(config, "customer", 1);
    try {
      expect(provider).toMatchObject({ queueUrl: config.queues.bookingRequest, endpoint: "http://127.0.0.1:9", source: "configured" });
      expect(customer).toMatchObject({ queueUrl: config.queues.bookingEvents, source: "configured" });
    } finally {
      provider.sqs.destroy();
      customer.sqs.destroy();
    }
  });

  test("with SQS configured but the consumer's queue URL unset, it refuses to start and names the variable", async () => {
    const config = loadConfig({ NODE_ENV: "test", SQS_BOOKING_REQUEST_QUEUE_URL: "http://127.0.0.1:9/000000000000/booking-request-queue" });
    const err = await resolveConsumerQueue(config, "customer", 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsumerSetupError);
    expect((err as Error).message).toContain("SQS_BOOKING_EVENTS_QUEUE_URL");
  });

  test("with nothing configured and no emulator answering, it refuses to start and says to run `npm start`", async () => {
    const port = await closedPort();
    const config = loadConfig({ NODE_ENV: "test", SQS_EMULATOR_PORT: String(port) });
    const err = await resolveConsumerQueue(config, "provider", 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsumerSetupError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).toContain("npm start");
  });

  test("SQS_EMULATOR_PORT=0 cannot be found by a consumer and is refused", async () => {
    const config = loadConfig({ NODE_ENV: "test", SQS_EMULATOR_PORT: "0" });
    await expect(resolveConsumerQueue(config, "provider", 1)).rejects.toThrow(ConsumerSetupError);
  });
});
