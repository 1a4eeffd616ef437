import { Field, InputType, Int, ObjectType } from "type-graphql";
import { LIST_BOUNDS, listComplexity } from "./list-cost";

// Each window class is both the output type and its `…Input` twin: the fields are the same,
// and the domain validates them (src/domain/schedule.ts).

@ObjectType({ description: "A weekly opening window in the provider's local time." })
@InputType("WeeklyWindowInput", { description: "A weekly opening window in the provider's local time." })
export class WeeklyWindow {
  @Field(() => Int, { description: "ISO weekday: 1 = Monday ... 7 = Sunday." })
  weekday!: number;

  @Field(() => String, { description: "Local wall-clock time, HH:MM (24 h)." })
  startTime!: string;

  @Field(() => String, { description: "Local wall-clock time, HH:MM (24 h); after startTime." })
  endTime!: string;
}

@ObjectType({ description: "A local time window on one date." })
@InputType("TimeWindowInput", { description: "A local time window on one date." })
export class TimeWindow {
  @Field(() => String)
  startTime!: string;

  @Field(() => String)
  endTime!: string;
}

@ObjectType({ description: "Replaces the weekly windows on one local date; no windows means closed." })
@InputType("DateOverrideInput", { description: "Replaces the weekly windows on one local date; no windows means closed that day." })
export class DateOverride {
  @Field(() => String, { description: "Local date, YYYY-MM-DD." })
  date!: string;

  @Field(() => [TimeWindow], { complexity: listComplexity(LIST_BOUNDS.windowsPerOverride) })
  windows!: TimeWindow[];
}

@ObjectType({ description: "A provider's weekly schedule, in its own time zone." })
export class Schedule {
  @Field(() => Int)
  slotMinutes!: number;

  @Field(() => Int, { description: "Gap kept free after every slot, in minutes." })
  bufferMinutes!: number;

  @Field(() => Int, { description: "How long before a slot's start it can still be booked, in minutes." })
  minimumNoticeMinutes!: number;

  @Field(() => Int, { description: "How many days ahead slots are offered." })
  horizonDays!: number;

  @Field(() => [WeeklyWindow], { complexity: listComplexity(LIST_BOUNDS.weeklyWindows) })
  weekly!: WeeklyWindow[];

  @Field(() => [DateOverride], { complexity: listComplexity(LIST_BOUNDS.dateOverrides) })
  overrides!: DateOverride[];
}
