import { GraphQLError } from "graphql";
import { isWellFormedText } from "../domain/text";

/** How deep a variables object is walked; deeper ones are refused by the depth of the schema's inputs anyway. */
const MAX_NESTING = 32;

function findMalformed(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === "string") return isWellFormedText(value) ? undefined : path;
  if (value === null || typeof value !== "object" || depth > MAX_NESTING) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findMalformed(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    const found = findMalformed(v, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses variables holding a string that is not well-formed Unicode (a lone UTF-16 surrogate,
 * which JSON's `\ud800` can express). A GraphQL string literal cannot hold one (the spec's
 * StringValue allows only Unicode scalar values, and graphql-js refuses the escape), so every
 * String, ID and custom-scalar input is held to the same rule, whatever its variable's type.
 * Returns the error to answer with (BAD_USER_INPUT, naming the variable), or none.
 */
export function checkVariableText(variables: Record<string, unknown> | null | undefined): GraphQLError[] {
  if (!variables) return [];
  for (const [name, value] of Object.entries(variables)) {
    const path = findMalformed(value, `$${name}`, 0);
    if (path) {
      return [
        new GraphQLError(`Variable ${path} is not well-formed Unicode: it holds a lone UTF-16 surrogate`, {
          extensions: { code: "BAD_USER_INPUT", field: path.slice(1) },
        }),
      ];
    }
  }
  return [];
}
