import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

/** One request a receiver got. */
export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  /** Parsed body. */
  event: { eventId: string; eventType: string; bookingId: string; providerId: string; [k: string]: unknown };
  at: number;
}

/**
 * What the receiver does with a request: answer with a status (and body), or hang (never answer;
 * the socket stays open until the receiver closes).
 */
export type ReceiverBehaviour = { status: number; body?: string; headers?: Record<string, string> } | "hang";

/**
 * A real HTTP webhook receiver on 127.0.0.1 (port 0, or a given one). `respond` decides per
 * request (by its 0-based number); `down()` closes the port, `up()` listens on it again.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(public respond: (req: ReceivedWebhook, index: number) => ReceiverBehaviour = () => ({ status: 204 })) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Starts listening (on the same port as before, after `down()`). */
  async up(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Stops listening and drops open connections (hanging requests included). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Requests whose signature verifies with `secret` (and whose webhook-id is the body's eventId). */
  verifiedWith(secret: string): ReceivedWebhook[] {
    return this.received.filter((r) => verifies(r, secret));
  }

  /** Event types received, in arrival order (duplicates included). */
  types(): string[] {
    return this.received.map((r) => r.event.eventType);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const received: ReceivedWebhook = { headers, body, event: JSON.parse(body), at: Date.now() };
      const index = this.received.push(received) - 1;
      const behaviour = this.respond(received, index);
      if (behaviour === "hang") return;
      res.writeHead(behaviour.status, { "content-type": "text/plain", ...behaviour.headers });
      res.end(behaviour.body ?? "");
    });
  }
}

/** True when `r` carries a valid Standard Webhooks signature for `secret` (checked by the `standardwebhooks` package). */
export function verifies(r: ReceivedWebhook, secret: string): boolean {
  try {
    new Webhook(secret).verify(r.body, {
      "webhook-id": r.headers["webhook-id"]!,
      "webhook-timestamp": r.headers["webhook-timestamp"]!,
      "webhook-signature": r.headers["webhook-signature"]!,
    });
    return r.headers["webhook-id"] === r.event.eventId;
  } catch {
    return false;
  }
}

