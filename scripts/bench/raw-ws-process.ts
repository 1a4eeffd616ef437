/**
 * The fan-out baseline's server, in its own process: a bare `ws` WebSocketServer on 127.0.0.1
 * with nothing on top (no GraphQL, no Redis, no auth). On `{ type: "broadcast", frame }` it sends
 * that text frame to every open connection.
 *
 * Messages in:  { type: "broadcast", frame }  { type: "memory", id }  { type: "stop" }
 * Messages out: { type: "ready", url }  { type: "memory", ... } (see server-handle)
 */
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { answerMemoryRequest } from "./server-handle";

type Message = { type: "broadcast"; frame: string } | { type: "memory"; id: number } | { type: "stop" };

// Same message size limit as Slotwise's graphql-ws server, so per-connection buffers match.
const server = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 1024 * 1024 });
const stop = () => {
  for (const client of server.clients) client.terminate();
  server.close(() => process.exit(0));
};
server.on("listening", () => process.send?.({ type: "ready", url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` }));
process.on("message", (message: Message) => {
  if (message.type === "broadcast") for (const client of server.clients) client.send(message.frame);
  else if (message.type === "memory") answerMemoryRequest(message.id);
  else if (message.type === "stop") stop();
});
process.on("disconnect", stop);
