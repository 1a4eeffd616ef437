import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { ScheduleRow } from "../db/schema";
import type { DateOverride as DateOverrideValue, WeeklyWindow as WeeklyWindowValue } from "../domain/schedule";
import type { GraphQLContext } from "./context";
import { Provider } from "../schema/provider.type";
import { SetScheduleInput } from "../schema/schedule.input";
import { Schedule } from "../schema/schedule.type";
import type { ScheduleService } from "../services/schedule.service";

function toSchedule(row: ScheduleRow): Schedule {
  return { ...row, weekly: row.weekly as WeeklyWindowValue[], overrides: row.overrides as DateOverrideValue[] };
}

@Resolver(() => Provider)
export class ScheduleResolver {
  constructor(private readonly schedules: ScheduleService) {}

  @FieldResolver(() => Schedule, { nullable: true, description: "The weekly schedule, if the provider has one." })
  async schedule(@Root() provider: Provider, @Ctx() ctx: GraphQLContext): Promise<Schedule | null> {
    const row = await ctx.loaders.schedule.load(provider.id);
    return row ? toSchedule(row) : null;
  }

  @Mutation(() => Schedule, { description: "Replaces the provider's schedule and regenerates its future slots; held and booked slots are kept." })
  async setSchedule(@Arg("input", () => SetScheduleInput) input: SetScheduleInput, @Ctx() ctx: GraphQLContext): Promise<Schedule> {
    return toSchedule(await this.schedules.setSchedule(ctx.viewer, { ...input, overrides: input.overrides ?? [] }));
  }
}
