import type { ApolloServerPlugin } from "@apollo/server";
import type { GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import type { Metrics, OperationOutcome } from "./metrics";
import { currentRequestId } from "./request-context";

/** What the plugin needs from the GraphQL context. */
interface RequestIdContext {
  requestId?: string;
}

/** Distinct `extensions.code`s of `errors`, in first-seen order. */
export function errorCodes(errors: readonly GraphQLFormattedError[] | undefined): string[] {
  const codes = (errors ?? []).map((e) => (typeof e.extensions?.code === "string" ? e.extensions.code : "UNKNOWN"));
  return [...new Set(codes)];
}

/**
 * Apollo Server plugin for GraphQL over HTTP: times every operation into
 * `graphql_request_duration_seconds{operation, outcome}` and writes one info line per
 * operation (requestId, operationName, durationMs, outcome, errorCodes). The outcome is
 * `error` whenever the response carries errors, including parse and validation errors.
 */
export function apolloMetricsPlugin(metrics: Metrics, log: Logger): ApolloServerPlugin<RequestIdContext> {
  return {
    async requestDidStart(started) {
      const startedAt = process.hrtime.bigint();
      return {
        async willSendResponse(rc) {
          const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
          const body = rc.response.body;
          const errors = body.kind === "single" ? body.singleResult.errors : body.initialResult.errors;
          const outcome: OperationOutcome = errors?.length ? "error" : "ok";
          const operationName = rc.operationName ?? rc.request.operationName ?? null;
          metrics.observeOperation(operationName, outcome, seconds);
          log.info(
            {
              requestId: started.contextValue.requestId ?? currentRequestId(),
              transport: "http",
              operationName,
              operationType: rc.operation?.operation ?? null,
              durationMs: Math.round(seconds * 1e6) / 1e3,
              outcome,
              errorCodes: errorCodes(errors),
            },
            "graphql operation",
          );
        },
      };
    },
    // No operation ran (e.g. a bad token is refused while building the context): still one line.
    async contextCreationDidFail({ error }) {
      const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
      log.info(
        { requestId: currentRequestId(), transport: "http", outcome: "error", errorCodes: [typeof code === "string" ? code : "UNKNOWN"] },
        "graphql request refused before execution",
      );
    },
  };
}
