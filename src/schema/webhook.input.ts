import { Field, ID, InputType } from "type-graphql";
import { BookingEventType } from "./enums";

@InputType()
export class CreateWebhookEndpointInput {
  @Field(() => String)
  url!: string;

  @Field(() => [BookingEventType], { nullable: true, description: "Empty or null: every type." })
  eventTypes?: BookingEventType[] | null;

  @Field(() => ID, { nullable: true, description: "Only this provider's events; null: every provider the caller owns (an admin's: all)." })
  providerId?: string | null;
}

@InputType()
export class UpdateWebhookEndpointInput {
  @Field(() => String)
  url!: string;

  @Field(() => [BookingEventType], { nullable: true, description: "Empty or null: every type." })
  eventTypes?: BookingEventType[] | null;

  @Field(() => Boolean)
  enabled!: boolean;
}
