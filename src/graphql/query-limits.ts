import type { ApolloServerPlugin } from "@apollo/server";
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  getOperationAST,
  getVariableValues,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from "graphql-query-complexity";
import type { SubscribePayload } from "graphql-ws";
import { LRUCache } from "lru-cache";
import { DEFAULT_PAGE_SIZE } from "../domain/page-limits";
import { checkVariableText } from "./variable-text";

/** Bounds on one operation (see `config.queryLimits`). */
export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxDocumentBytes: number;
}

export type QueryLimitReason = "QUERY_TOO_DEEP" | "QUERY_TOO_COSTLY" | "TOO_MANY_ALIASES" | "DOCUMENT_TOO_LARGE";

// The cost model (what each field and list costs) is in src/schema/list-cost.ts, beside the types
// whose `complexity` options use it; here it is only applied.
const ESTIMATORS = [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })];

// ---------------------------------------------------------------------------
// Measuring and checking
// ---------------------------------------------------------------------------

/** What an operation would cost; see {@link measureOperation}. */
export interface OperationMeasure {
  /** Fields along the longest path: `{ me { id } }` is 2. */
  depth: number;
  /** Aliased fields, counting a fragment's aliases once per spread. */
  aliases: number;
  /**
   * Estimated cost; `Infinity` when the operation expands (through fragments) to more
   * selections than are worth estimating; undefined when its variables do not coerce
   * (execution refuses those itself, before running anything).
   */
  cost: number | undefined;
}

/**
 * Depth and aliases in one pass. Fragments are measured once and reused (graphql-depth-limit
 * re-walks a fragment at every spread, which is exponential in fragment fan-out, and cannot
 * say how deep a refused query is). Introspection's `ofType` does not add depth: type
 * references legitimately nest it 9 levels (GraphiQL), and it leads to no list.
 */
function measureShape(operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>): { depth: number; aliases: number } {
  const memo = new Map<string, { depth: number; aliases: number }>();
  const onPath = new Set<string>();

  const fragment = (name: string): { depth: number; aliases: number } => {
    const cached = memo.get(name);
    if (cached) return cached;
    const def = fragments.get(name);
    // Unknown or cyclic fragments are validation errors, reported by validation.
    if (!def || onPath.has(name)) return { depth: 0, aliases: 0 };
    onPath.add(name);
    const result = selectionSet(def.selectionSet, def.typeCondition.name.value.startsWith("__"));
    onPath.delete(name);
    memo.set(name, result);
    return result;
  };

  const selectionSet = (set: SelectionSetNode, introspection: boolean): { depth: number; aliases: number } => {
    let depth = 0;
    let aliases = 0;
    for (const sel of set.selections) {
      let inner = { depth: 0, aliases: 0 };
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        const insideIntrospection = introspection || name === "__schema" || name === "__type";
        const below = sel.selectionSet ? selectionSet(sel.selectionSet, insideIntrospection) : inner;
        inner = { depth: (introspection && name === "ofType" ? 0 : 1) + below.depth, aliases: (sel.alias ? 1 : 0) + below.aliases };
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        inner = selectionSet(sel.selectionSet, sel.typeCondition ? sel.typeCondition.name.value.startsWith("__") : introspection);
      } else {
        inner = fragment(sel.name.value);
      }
      depth = Math.max(depth, inner.depth);
      aliases += inner.aliases;
    }
    return { depth, aliases };
  };

  return selectionSet(operation.selectionSet, false);
}

/** Selections worth estimating before calling an operation too costly outright. */
function maxQueryNodes(limits: QueryLimits): number {
  return Math.max(10_000, 2 * limits.maxCost);
}

function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null | undefined,
  maxNodes: number,
): number | undefined {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return undefined;
  try {
    return getComplexity({
      schema,
      query: document,
      // Anonymous operations are alone in their document (validation), so undefined selects exactly one.
      operationName: operation.name?.value,
      variables: variables ?? {},
      estimators: ESTIMATORS,
      maxQueryNodes: maxNodes,
    });
  } catch (err) {
    // Its node budget is the only error graphql-query-complexity raises for a valid document;
    // anything else is an invalid one, which validation and execution refuse on their own.
    if (err instanceof GraphQLError && /maximum allowed number of nodes/.test(err.message)) return Number.POSITIVE_INFINITY;
    if (err instanceof GraphQLError) return undefined;
    throw err;
  }
}

/**
 * Measures the operation of `document` that would run (per `operationName`).
 * Returns undefined when there is no such operation.
 */
export function measureOperation(args: {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  limits?: QueryLimits;
}): OperationMeasure | undefined {
  const operation = getOperationAST(args.document, args.operationName ?? undefined);
  if (!operation) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of args.document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const shape = measureShape(operation, fragments);
  const maxNodes = args.limits ? maxQueryNodes(args.limits) : 10_000;
  return { ...shape, cost: estimateCost(args.schema, args.document, operation, args.variables, maxNodes) };
}

function limitError(reason: QueryLimitReason, message: string, limit: number, actual?: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: "BAD_USER_INPUT", reason, limit, ...(actual !== undefined && Number.isFinite(actual) ? { actual } : {}) },
  });
}

/**
 * Checks one operation; returns the errors (empty when within limits). Never throws for bad input.
 * Errors come in the order depth, cost, aliases.
 */
export function checkOperationLimits(args: {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  limits: QueryLimits;
}): GraphQLError[] {
  const { limits } = args;
  const m = measureOperation(args);
  if (!m) return [];
  const errors: GraphQLError[] = [];
  if (m.depth > limits.maxDepth) {
    errors.push(limitError("QUERY_TOO_DEEP", `Query depth ${m.depth} exceeds the maximum depth of ${limits.maxDepth}.`, limits.maxDepth, m.depth));
  }
  if (m.cost !== undefined && m.cost > limits.maxCost) {
    const message = Number.isFinite(m.cost)
      ? `Query cost ${m.cost} exceeds the maximum cost of ${limits.maxCost} (a list costs its page size, \`first\`, default ${DEFAULT_PAGE_SIZE}, times its selection).`
      : `Query expands to more than ${maxQueryNodes(limits)} selections through its fragments; the maximum cost is ${limits.maxCost}.`;
    errors.push(limitError("QUERY_TOO_COSTLY", message, limits.maxCost, m.cost));
  }
  if (m.aliases > limits.maxAliases) {
    errors.push(limitError("TOO_MANY_ALIASES", `Query uses ${m.aliases} aliases; the maximum is ${limits.maxAliases}.`, limits.maxAliases, m.aliases));
  }
  return errors;
}

/** Raw size check before parsing (bytes of the query string, UTF-8). */
export function checkDocumentSize(query: string | undefined, limits: QueryLimits): GraphQLError[] {
  if (typeof query !== "string") return [];
  const bytes = Buffer.byteLength(query, "utf8");
  if (bytes <= limits.maxDocumentBytes) return [];
  return [
    limitError("DOCUMENT_TOO_LARGE", `The document is ${bytes} bytes; the maximum is ${limits.maxDocumentBytes} bytes.`, limits.maxDocumentBytes, bytes),
  ];
}

function withHttpStatus(error: GraphQLError, status: number): GraphQLError {
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status } } });
}

/** A document that parses and validates in no time, standing in for one refused unparsed. */
const PLACEHOLDER_DOCUMENT = "{ __typename }";

/**
 * Apollo Server 5 plugin applying both checks to every HTTP operation: the document size
 * before parsing, then (once the operation is resolved) well-formed text in the variables
 * (see {@link checkVariableText}), depth, cost and aliases. A refused
 * operation is answered 400 with the first error and never executes.
 */
export function createQueryLimitsPlugin(limits: QueryLimits): ApolloServerPlugin<any> {
  return {
    async requestDidStart({ request }) {
      const sizeErrors = checkDocumentSize(request.query, limits);
      if (sizeErrors.length > 0) {
        // Apollo answers 500 to anything thrown before parsing, so the oversized text is swapped
        // for a trivial document (never parsing or validating it, which is where its cost lies)
        // and refused below with our status. The persisted-query hash would no longer match it.
        request.query = PLACEHOLDER_DOCUMENT;
        if (request.extensions?.persistedQuery) {
          const extensions = { ...request.extensions };
          delete extensions.persistedQuery;
          request.extensions = extensions;
        }
      }
      return {
        async didResolveOperation(ctx) {
          if (sizeErrors[0]) throw withHttpStatus(sizeErrors[0], 400);
          const [textError] = checkVariableText(ctx.request.variables);
          if (textError) throw withHttpStatus(textError, 400);
          const errors = checkOperationLimits({
            schema: ctx.schema,
            document: ctx.document,
            variables: ctx.request.variables,
            operationName: ctx.request.operationName,
            limits,
          });
          if (errors[0]) throw withHttpStatus(errors[0], 400);
        },
      };
    },
  };
}

/**
 * graphql-ws `onSubscribe` applying the same limits on the WebSocket path (Apollo's plugins do
 * not run there): size, parse, validation, then depth/cost/aliases. Returns the errors (sent as
 * an `error` message; the socket stays open) or the execution arguments. The arguments carry no
 * `contextValue` key, so graphql-ws still builds the context with the server's `context` option.
 *
 * @param options.introspection - false adds graphql's NoSchemaIntrospectionCustomRule (production).
 */
export function limitWsOperation(
  schema: GraphQLSchema,
  limits: QueryLimits,
  options: { introspection?: boolean } = {},
): (ctx: unknown, id: string, payload: SubscribePayload) => Promise<ExecutionArgs | readonly GraphQLError[]> {
  const rules = options.introspection === false ? [...specifiedRules, NoSchemaIntrospectionCustomRule] : specifiedRules;
  // Parsed and validated documents by their text, as Apollo keeps them for HTTP: thousands of
  // clients send the same subscription, and parse + validate was the heaviest cost of
  // subscribing in the fan-out benchmark's profile (docs/benchmarks.md). Validity depends only
  // on the text, the schema and the rules, all fixed here; cost limits depend on variables and
  // are checked on every subscribe. Bounded by the summed size of the texts (2 MiB).
  const validated = new LRUCache<string, DocumentNode>({ maxSize: 2 * 1024 * 1024, sizeCalculation: (_doc, query) => Math.max(1, query.length) });
  return async (_ctx, _id, payload) => {
    const sizeErrors = checkDocumentSize(payload.query, limits);
    if (sizeErrors.length > 0) return sizeErrors;
    let document = validated.get(payload.query);
    if (!document) {
      const outcome = parseAndValidate(schema, payload.query, rules);
      if (!("document" in outcome)) return outcome.errors;
      document = outcome.document;
      validated.set(payload.query, document);
    }
    const variables = payload.variables ?? undefined;
    const textErrors = checkVariableText(variables);
    if (textErrors.length > 0) return textErrors;
    const operationName = payload.operationName ?? undefined;
    const limitErrors = checkOperationLimits({ schema, document, variables, operationName, limits });
    if (limitErrors.length > 0) return limitErrors;
    return { schema, document, variableValues: variables, operationName };
  };
}

/** Parses `query` and validates it against `schema`; the errors are ready to send (Apollo's codes). */
function parseAndValidate(schema: GraphQLSchema, query: string, rules: typeof specifiedRules): { document: DocumentNode } | { errors: readonly GraphQLError[] } {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (err) {
    // Same code as Apollo's on HTTP; a non-GraphQL error here is a stack overflow on absurd nesting.
    const syntax = err instanceof GraphQLError ? err : undefined;
    return {
      errors: [
        new GraphQLError(syntax?.message ?? "Syntax Error: the document could not be parsed.", {
          source: syntax?.source,
          positions: syntax?.positions,
          extensions: { code: "GRAPHQL_PARSE_FAILED" },
        }),
      ],
    };
  }
  const errors = validate(schema, document, rules);
  return errors.length > 0 ? { errors } : { document };
}
