import http from "node:http";
import { performance } from "node:perf_hooks";

/** One GraphQL error as the server sends it. */
export interface GraphQLError {
  message: string;
  extensions?: { code?: string; reason?: string };
}

/** A GraphQL answer over HTTP, with the round trip measured around it (ms). */
export interface GraphQLReply<T> {
  status: number;
  data?: T | null;
  errors?: GraphQLError[];
  roundTripMs: number;
}

/**
 * A lean GraphQL-over-HTTP client for the load generator: node:http with a keep-alive agent
 * sized to the number of concurrent callers, so each caller keeps its own connection and the
 * client adds as little CPU as possible to the machine it shares with the server.
 */
export class GraphQLHttp {
  private readonly agent: http.Agent;
  private readonly target: URL;

  /** @param url - `http://127.0.0.1:<port>/graphql`; @param maxSockets - most connections open at once */
  constructor(url: string, maxSockets: number) {
    this.target = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** POSTs one operation; resolves with the parsed body (rejects only on a transport error or a non-JSON answer). */
  post<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<GraphQLReply<T>> {
    const body = JSON.stringify({ query, variables });
    const headers: http.OutgoingHttpHeaders = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    if (token) headers.authorization = `Bearer ${token}`;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.target.hostname, port: this.target.port, path: this.target.pathname, method: "POST", agent: this.agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const roundTripMs = performance.now() - started;
            try {
              const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data?: T; errors?: GraphQLError[] };
              resolve({ status: res.statusCode ?? 0, data: parsed.data, errors: parsed.errors, roundTripMs });
            } catch {
              reject(new Error(`HTTP ${res.statusCode}: not a GraphQL answer`));
            }
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  /** Closes every pooled connection. */
  close(): void {
    this.agent.destroy();
  }
}

/** The first error's `extensions.code`, or undefined for a clean answer. */
export function errorCode(reply: GraphQLReply<unknown>): string | undefined {
  return reply.errors?.[0]?.extensions?.code;
}
