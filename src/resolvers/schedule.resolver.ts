import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import type { ScheduleRow } from "../db/schema";
import type { DateOverride as DateOverrideValue, WeeklyWindow as WeeklyWindowValue } from "../domain/schedule";
import type { GraphQLContext } from "../graphql/context";
import { Booking } from "../schema/booking.type";
import { Provider } from "../schema/provider.type";
import { SetScheduleInput } from "../schema/schedule.input";
import { Schedule } from "../schema/schedule.type";
import { Slot } from "../schema/slot.type";

function toSchedule(row: ScheduleRow): Schedule {
  return { ...row, weekly: row.weekly as WeeklyWindowValue[], overrides: row.overrides as DateOverrideValue[] };
}

@Resolver(() => Provider)
export class ScheduleResolver {
  @FieldResolver(() => Schedule, { nullable: true, description: "The weekly schedule, if the provider has one." })
  async schedule(@Root() provider: Provider, @Ctx() ctx: GraphQLContext): Promise<Schedule | null> {
    const row = await ctx.loaders.schedule.load(provider.id);
    return row ? toSchedule(row) : null;
  }

  @Mutation(() => Schedule, { description: "Replaces the provider's schedule and regenerates its future slots; held and booked slots are kept." })
  async setSchedule(@Arg("input", () => SetScheduleInput) input: SetScheduleInput, @Ctx() ctx: GraphQLContext): Promise<Schedule> {
    return toSchedule(await ctx.services.schedules.setSchedule(ctx.viewer, { ...input, overrides: input.overrides ?? [] }));
  }

  @Mutation(() => Booking, { description: "Moves a PENDING or CONFIRMED booking to another slot of the same provider; the booking keeps its id." })
  rescheduleBooking(@Arg("id", () => ID) id: string, @Arg("slotId", () => ID) slotId: string, @Ctx() ctx: GraphQLContext): Promise<Booking> {
    return ctx.services.bookingReschedule.rescheduleBooking(ctx.viewer, id, slotId);
  }

  @Mutation(() => Slot, { description: "Takes an AVAILABLE slot off sale (provider's owner)." })
  blockSlot(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Slot> {
    return ctx.services.slotBlock.blockSlot(ctx.viewer, id);
  }

  @Mutation(() => Slot, { description: "Puts a BLOCKED slot back on sale (provider's owner)." })
  unblockSlot(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Slot> {
    return ctx.services.slotBlock.unblockSlot(ctx.viewer, id);
  }
}
