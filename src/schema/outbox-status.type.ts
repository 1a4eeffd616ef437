import { Field, Float, Int, ObjectType } from "type-graphql";

@ObjectType({ description: "The SQS outbox relay's state (admins only)." })
export class OutboxStatus {
  @Field(() => Int, { description: "Events not yet delivered to every queue they route to, across all instances." })
  pending!: number;

  @Field(() => Date, { nullable: true })
  oldestPendingAt!: Date | null;

  @Field(() => Float, { nullable: true, description: "Age of the oldest waiting event, in seconds." })
  oldestPendingAgeSeconds!: number | null;

  @Field(() => String, { nullable: true, description: "The last send error seen." })
  lastError!: string | null;

  @Field(() => Date, { nullable: true })
  lastErrorAt!: Date | null;

  @Field(() => Boolean, { description: "Whether the instance that answered runs a relay." })
  relayRunning!: boolean;

  @Field(() => Int, { description: "Events the answering instance's relay published since it started." })
  sentByThisInstance!: number;
}
