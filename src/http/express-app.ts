import express, { type Express } from "express";
import type { Logger } from "pino";
import type { Config } from "../config";
import { httpAccessLog, requestIdMiddleware } from "../observability/http-request-id";

/**
 * The Express app with what every request passes first: `trust proxy` (`TRUST_PROXY`), the
 * request id (every response gets `x-request-id`, and the rest of the request runs in its
 * context), the access log, and the refusal of requests that arrive on a socket shutdown has
 * already ended.
 */
export function createExpressApp(config: Pick<Config, "trustProxy">, log: Logger): Express {
  const app = express();
  if (config.trustProxy !== undefined) app.set("trust proxy", config.trustProxy);
  app.use(requestIdMiddleware());
  app.use(httpAccessLog(log));
  // During shutdown the drain ends idle keep-alive sockets for writing; a request that still
  // arrives on one can never be answered, so it must not run (a booking would commit unseen).
  app.use((req, _res, next) => {
    if (req.socket.writableEnded || req.socket.destroyed) {
      req.socket.destroy();
      return;
    }
    next();
  });
  return app;
}
