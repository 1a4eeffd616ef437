import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";
import { REQUEST_ID_HEADER, resolveRequestId, runWithRequestContext } from "./request-context";

/** The request id chosen for `res` by {@link requestIdMiddleware}. */
export function requestIdOf(res: Response | ServerResponse): string | undefined {
  const id = (res as Partial<Response>).locals?.requestId;
  return typeof id === "string" ? id : undefined;
}

/**
 * Express middleware, to mount before every route: takes the caller's `x-request-id` when it is
 * valid (≤ 128 chars of `[A-Za-z0-9._-]`; anything else is replaced, never trusted), or generates
 * a UUID; echoes it in the `x-request-id` response header; keeps it in `res.locals.requestId`; and
 * runs the rest of the request inside `runWithRequestContext`, so whatever the request causes
 * (logs, outbox events) can find it with `currentRequestId()`.
 */
export function requestIdMiddleware(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const requestId = resolveRequestId(req.headers[REQUEST_ID_HEADER]);
    res.locals.requestId = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    runWithRequestContext({ requestId }, next);
  };
}

/**
 * Optional access log (pino-http), mounted after {@link requestIdMiddleware}: one line per HTTP
 * request with `requestId`, method, url, status and time. Headers are not logged (they carry bearer
 * tokens). Probes and scrapes (`/healthz`, `/readyz`, `/metrics`) are not logged.
 */
export function httpAccessLog(log: Logger): RequestHandler {
  const quiet = new Set(["/healthz", "/readyz", "/metrics"]);
  return pinoHttp({
    logger: log,
    genReqId: (req: IncomingMessage, res: ServerResponse) => requestIdOf(res) ?? resolveRequestId(req.headers[REQUEST_ID_HEADER]),
    // The same key as every other line about this request.
    customAttributeKeys: { reqId: "requestId" },
    quietReqLogger: true,
    autoLogging: { ignore: (req: IncomingMessage) => quiet.has((req.url ?? "").split("?", 1)[0]!) },
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  }) as unknown as RequestHandler;
}
