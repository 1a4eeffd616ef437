/**
 * The layering of src/ (docs/architecture.md "Layers"), checked by `npm run lint:architecture`.
 * Imports point down only:
 *
 *   top:       src/graphql, src/server.ts, src/core.ts, src/http, src/main.ts, src/cli, src/workers,
 *              src/consumers, src/observability, src/explorer, src/public-api.ts (may import anything
 *              below; nothing below imports them)
 *   resolvers: src/resolvers      -> schema types, services, events, db, domain
 *   schema:    src/schema         -> domain (the API's shape and its cost model only)
 *   services:  src/services       -> events, db, domain
 *   events:    src/events         -> db, domain
 *   db:        src/db             -> domain
 *   domain:    src/domain         -> nothing else in src (pure rules)
 *   bottom:    src/config.ts (with config-types.ts, config-parsers.ts), src/logger.ts: importable from every layer, import nothing above
 *
 * Every rule below names what a layer may NOT import, as "anything in src/ outside the allowed set".
 */
const BOTTOM = "src/(config|config-types|config-parsers|logger)\\.ts$";

/** A rule forbidding `from` to import anything in src/ outside `allowed` (folders under src/). */
function layer(name, from, allowed) {
  return {
    name: `layer-${name}`,
    comment: `${from} may import only ${allowed.join(", ")} and the bottom (config, logger)`,
    severity: "error",
    from: { path: `^src/${from}/` },
    to: { path: "^src/", pathNot: [`^src/(${allowed.join("|")})/`, `^${BOTTOM}`] },
  };
}

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "Modules must not depend on each other in a cycle (type-only imports included).",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    layer("domain", "domain", ["domain"]),
    layer("db", "db", ["db", "domain"]),
    layer("events", "events", ["events", "db", "domain"]),
    layer("services", "services", ["services", "events", "db", "domain"]),
    layer("schema", "schema", ["schema", "domain"]),
    layer("resolvers", "resolvers", ["resolvers", "schema", "services", "events", "db", "domain"]),
    {
      name: "layer-bottom",
      comment: "src/config.ts and src/logger.ts sit at the bottom: they import nothing else in src/.",
      severity: "error",
      from: { path: `^${BOTTOM}` },
      to: { path: "^src/", pathNot: `^${BOTTOM}` },
    },
    {
      name: "no-import-of-entry-points",
      comment: "Process entry points (src/main.ts, src/cli/*) are run, never imported.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^src/(main\\.ts$|cli/)" },
    },
    {
      name: "not-to-unresolvable",
      comment: "Every import resolves (a typo or a missing package fails here, not at run time).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a type from a higher layer is still a dependency on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
  },
};
