import net, { type AddressInfo, type Socket } from "node:net";

/**
 * A TCP forwarder on 127.0.0.1 that a test can cut and restore, to make a dependency
 * (SQS, Redis) unreachable without stopping it. While cut, every open connection is reset
 * and every new one is reset as soon as it is accepted, so clients fail fast with
 * ECONNRESET instead of waiting for a timeout. The listening port never changes, so the
 * URLs handed to clients stay valid across cut/restore.
 */
export interface TcpProxy {
  /** Local port clients connect to. */
  port: number;
  /** `host:port` form, for building URLs. */
  address: string;
  /** Whether connections are currently forwarded. */
  readonly up: boolean;
  /** Connections accepted since start (forwarded or reset). */
  readonly accepted: number;
  /** Resets every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

function reset(socket: Socket): void {
  // RST rather than FIN: the peer sees ECONNRESET at once, as with a dropped network.
  if (typeof socket.resetAndDestroy === "function" && !socket.destroyed) socket.resetAndDestroy();
  else socket.destroy();
}

/** Starts a proxy forwarding to `targetHost:targetPort` (listening on a free port unless given). */
export async function startTcpProxy(targetHost: string, targetPort: number, listenPort = 0): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let up = true;
  let accepted = 0;

  const server = net.createServer((client) => {
    accepted++;
    if (!up) {
      client.on("error", () => undefined);
      reset(client);
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    open.add(client);
    open.add(upstream);
    const teardown = () => {
      for (const s of [client, upstream]) {
        open.delete(s);
        if (!s.destroyed) s.destroy();
      }
    };
    client.on("error", teardown);
    upstream.on("error", teardown);
    client.on("close", teardown);
    upstream.on("close", teardown);
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    address: `127.0.0.1:${port}`,
    get up() {
      return up;
    },
    get accepted() {
      return accepted;
    },
    cut() {
      up = false;
      for (const s of [...open]) reset(s);
      open.clear();
    },
    restore() {
      up = true;
    },
    close: async () => {
      up = false;
      for (const s of [...open]) s.destroy();
      open.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
