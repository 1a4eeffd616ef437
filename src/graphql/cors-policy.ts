import type { IncomingMessage } from "node:http";
import cors from "cors";
import type { RequestHandler } from "express";
import type { CorsOrigins } from "../config";

/** How long a browser may cache a preflight answer, in seconds (Chromium caps it at 7200). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for `/graphql` (the `cors` package; Fetch standard, "CORS protocol"). An allowed origin
 * gets `Access-Control-Allow-Origin` with its own value (and `Vary: Origin`), its preflight a
 * 204 allowing GET, POST and the headers it asked for (`authorization`, `content-type`,
 * `apollo-require-preflight`, …), and may read `x-request-id`. No credentials mode: tokens
 * travel in `Authorization`, never in cookies. Any other origin gets no CORS headers, so the
 * browser refuses to hand it the answer (and Apollo's CSRF prevention refuses the simple
 * requests that skip the preflight).
 *
 * @returns undefined when `origins` is empty (nothing to mount: same-origin only)
 */
export function corsMiddleware(origins: CorsOrigins): RequestHandler | undefined {
  if (origins !== "*" && origins.length === 0) return undefined;
  return cors({
    origin: origins === "*" ? "*" : origins,
    methods: ["GET", "POST"],
    exposedHeaders: ["x-request-id"],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });
}

/**
 * Whether a WebSocket upgrade may proceed under `CORS_ORIGINS`. Browsers do not apply CORS to
 * WebSockets, so the server checks the `Origin` header itself (RFC 6455 §10.2): with a list
 * configured, a browser page may open a socket only from a listed origin or from the API's own
 * host (the explorer). Requests without `Origin` (non-browser clients) and an unset
 * `CORS_ORIGINS` are not restricted: graphql-ws authenticates with a token in
 * `connectionParams`, never with cookies, so another site's page gains nothing a plain
 * client would not have.
 */
export function isWebSocketOriginAllowed(origins: CorsOrigins, req: Pick<IncomingMessage, "headers">): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origins === "*" || origins.length === 0) return true;
  if (origins.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
