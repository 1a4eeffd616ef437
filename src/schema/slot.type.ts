import { Field, ID, ObjectType } from "type-graphql";
import { SlotStatus } from "./enums";

@ObjectType({ description: "A bookable interval of one provider." })
export class Slot {
  @Field(() => ID)
  id!: string;

  @Field(() => Date)
  startsAt!: Date;

  @Field(() => Date)
  endsAt!: Date;

  @Field(() => SlotStatus)
  status!: SlotStatus;

  providerId!: string;
}

@ObjectType()
export class SlotEvent {
  @Field(() => Slot)
  slot!: Slot;
}
