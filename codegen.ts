import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * Typed operations for the end-to-end tests and the demo: `npm run codegen` reads the
 * emitted `schema.graphql` and `test/operations/*.graphql`, and writes TypedDocumentNodes.
 */
const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["test/operations/*.graphql"],
  generates: {
    "test/generated/graphql.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        scalars: { DateTimeISO: "string", ID: "string" },
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        useTypeImports: true,
      },
    },
  },
};

export default config;
