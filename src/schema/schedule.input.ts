import { Field, ID, InputType, Int } from "type-graphql";

@InputType({ description: "A weekly opening window in the provider's local time." })
export class WeeklyWindowInput {
  @Field(() => Int, { description: "ISO weekday: 1 = Monday ... 7 = Sunday." })
  weekday!: number;

  @Field(() => String, { description: "Local wall-clock time, HH:MM (24 h)." })
  startTime!: string;

  @Field(() => String, { description: "Local wall-clock time, HH:MM (24 h); after startTime." })
  endTime!: string;
}

@InputType({ description: "A local time window on one date." })
export class TimeWindowInput {
  @Field(() => String)
  startTime!: string;

  @Field(() => String)
  endTime!: string;
}

@InputType({ description: "Replaces the weekly windows on one local date; no windows means closed that day." })
export class DateOverrideInput {
  @Field(() => String, { description: "Local date, YYYY-MM-DD." })
  date!: string;

  @Field(() => [TimeWindowInput])
  windows!: TimeWindowInput[];
}

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

  @Field(() => [WeeklyWindowInput])
  weekly!: WeeklyWindowInput[];

  @Field(() => [DateOverrideInput], { nullable: true })
  overrides?: DateOverrideInput[] | null;
}
