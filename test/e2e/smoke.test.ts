import { AcceptBookingDocument, BookingStatusChangedDocument } from "../generated/graphql";
import { addSlots, bookSlot, createProvider, registerUser } from "../support/factories";
import { executeOk, subscribe, wsClient } from "../support/graphql-client";
import { startTestServer, type TestServer } from "../support/test-server";
import { settle } from "../support/wait";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

test("a customer books, the owner accepts, and a subscriber hears it", async () => {
  const owner = await registerUser(server.url, "PROVIDER");
  const customer = await registerUser(server.url, "CUSTOMER");
  const provider = await createProvider(server.url, owner);
  const [slot] = await addSlots(server.url, owner, provider.id, { count: 2 });
  const booking = await bookSlot(server.url, customer, slot!.id);
  expect(booking.status).toBe("PENDING");

  const client = wsClient(server.wsUrl, customer.token);
  const sub = subscribe(client, BookingStatusChangedDocument, { bookingId: booking.id });
  await settle();
  const accepted = await executeOk(server.url, AcceptBookingDocument, { id: booking.id }, owner.token);
  expect(accepted.acceptBooking.status).toBe("CONFIRMED");
  const [event] = await sub.waitFor(1);
  expect(event!.data!.bookingStatusChanged.eventType).toBe("BOOKING_CONFIRMED");
  expect(event!.data!.bookingStatusChanged.booking.slot.status).toBe("BOOKED");
  sub.stop();
  await client.dispose();
});
