import { GraphQLError, GraphQLScalarType, type ValueNode } from "graphql";
import { GraphQLDateTimeISO } from "graphql-scalars";
import { EARLIEST_INSTANT, LATEST_INSTANT, isSupportedInstant } from "../domain/instants";

// A GraphQLError, as graphql-scalars throws: graphql-js then reports it as the client's error (a
// plain Error thrown while validating a literal would be wrapped as an unexpected one).
function supported(value: Date): Date {
  if (!isSupportedInstant(value)) {
    throw new GraphQLError(`DateTimeISO must lie between ${EARLIEST_INSTANT.toISOString()} and ${LATEST_INSTANT.toISOString()}, got ${value.toISOString()}`);
  }
  return value;
}

/**
 * graphql-scalars' `DateTimeISO` (RFC 3339 `date-time`, the scalar type-graphql uses for
 * `Date`) restricted to the years 0001-9999 (see src/domain/instants.ts): every Date argument
 * and input field, by literal or variable, is refused as bad input outside them, in one place.
 */
export const DateTimeISO = new GraphQLScalarType<Date, string>({
  ...GraphQLDateTimeISO.toConfig(),
  parseValue: (value: unknown) => supported(GraphQLDateTimeISO.parseValue(value) as Date),
  parseLiteral: (ast: ValueNode, variables?: Record<string, unknown> | null) => supported(GraphQLDateTimeISO.parseLiteral(ast, variables) as Date),
  serialize: (value: unknown) => GraphQLDateTimeISO.serialize(value) as string,
});
