import { Field, ID, InputType } from "type-graphql";

@InputType()
export class CreateBookingInput {
  @Field(() => ID)
  slotId!: string;

  @Field(() => String, {
    nullable: true,
    description: "Same key from the same customer returns the same booking instead of a new one.",
  })
  idempotencyKey?: string | null;
}
