import { Field, ID, InputType, Int } from "type-graphql";

@InputType()
export class CreateProviderInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "IANA time zone, e.g. Europe/Berlin." })
  timeZone!: string;

  @Field(() => Boolean, { nullable: true, description: "Default true: bookings wait for the owner to accept." })
  requiresConfirmation?: boolean | null;
}

@InputType()
export class AddAvailabilityInput {
  @Field(() => ID)
  providerId!: string;

  @Field(() => Date)
  startsAt!: Date;

  @Field(() => Date, { description: "Exclusive; endsAt - startsAt must be a multiple of slotMinutes." })
  endsAt!: Date;

  @Field(() => Int)
  slotMinutes!: number;
}
