import { Field, ID, InputType, Int } from "type-graphql";
import { DateOverride, WeeklyWindow } from "./schedule.type";

@InputType()
export class SetScheduleInput {
  @Field(() => ID)
  providerId!: string;

  @Field(() => Int)
  slotMinutes!: number;

  @Field(() => Int, { nullable: true, description: "Gap kept free after every slot. Default 0." })
  bufferMinutes?: number | null;

  @Field(() => Int, { nullable: true, description: "How long before a slot's start it can still be booked. Default 0." })
  minimumNoticeMinutes?: number | null;

  @Field(() => Int, { nullable: true, description: "How many days ahead slots are offered. Default 30." })
  horizonDays?: number | null;

  @Field(() => [WeeklyWindow])
  weekly!: WeeklyWindow[];

  @Field(() => [DateOverride], { nullable: true })
  overrides?: DateOverride[] | null;
}
