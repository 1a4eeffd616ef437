import type { ErrorRequestHandler } from "express";
import type { Logger } from "pino";

/** What body-parser (behind `express.json`) tags its errors with; its `status` is the HTTP status to answer. */
interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

const REASONS: Record<string, string> = {
  "entity.parse.failed": "MALFORMED_JSON",
  "entity.too.large": "BODY_TOO_LARGE",
  "encoding.unsupported": "UNSUPPORTED_ENCODING",
  "charset.unsupported": "UNSUPPORTED_CHARSET",
};

function messageFor(err: BodyParserError): string {
  switch (err.type) {
    case "entity.parse.failed":
      return `The request body is not valid JSON: ${err.message}`;
    case "entity.too.large":
      return `The request body is larger than the limit of ${err.limit ?? "?"} bytes.`;
    default:
      return `The request body could not be read: ${err.message}`;
  }
}

/**
 * Express's last error handler: answers what fails before GraphQL runs (a body that is not JSON,
 * too large, in an unsupported encoding) as a GraphQL JSON error instead of Express's HTML page
 * (which outside production carries a stack trace). Body errors keep body-parser's 4xx status
 * (400 malformed, 413 too large, 415 encoding) with `extensions.code` BAD_USER_INPUT and a
 * `reason`; anything else is an internal error, logged, masked when `maskInternal`.
 */
export function jsonErrorHandler(opts: { maskInternal: boolean; log: Logger }): ErrorRequestHandler {
  return (err: BodyParserError, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = typeof err?.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status < 500 && typeof err.type === "string") {
      res.status(status).json({ errors: [{ message: messageFor(err), extensions: { code: "BAD_USER_INPUT", reason: REASONS[err.type] ?? "UNREADABLE_BODY" } }] });
      return;
    }
    opts.log.error({ err }, "unexpected error outside GraphQL");
    const message = opts.maskInternal || !(err instanceof Error) ? "Internal server error" : err.message;
    res.status(status).json({ errors: [{ message, extensions: { code: status < 500 ? "BAD_USER_INPUT" : "INTERNAL_SERVER_ERROR" } }] });
  };
}
