import { Field, ID, Int, ObjectType } from "type-graphql";
import { BookingEventType, WebhookDeliveryStatus } from "./enums";
import { PageInfo } from "./page-info.type";

@ObjectType({ description: "One event sent (or to be sent) to one webhook endpoint." })
export class WebhookDelivery {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  eventId!: string;

  @Field(() => BookingEventType)
  eventType!: BookingEventType;

  @Field(() => WebhookDeliveryStatus)
  status!: WebhookDeliveryStatus;

  @Field(() => Int)
  attempts!: number;

  @Field(() => Int, { nullable: true, description: "HTTP status of the last attempt, if one answered." })
  lastResponseStatus!: number | null;

  @Field(() => String, { nullable: true, description: "Why the last attempt failed (the start of the receiver's body, if any)." })
  lastError!: string | null;

  @Field(() => Date, { nullable: true })
  lastAttemptAt!: Date | null;

  @Field(() => Date, { nullable: true })
  nextAttemptAt!: Date | null;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType()
export class WebhookDeliveryEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => WebhookDelivery)
  node!: WebhookDelivery;
}

@ObjectType()
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDeliveryEdge])
  edges!: WebhookDeliveryEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType({ description: "A receiver of signed webhooks (Standard Webhooks), fed by the outbox." })
export class WebhookEndpoint {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  url!: string;

  @Field(() => [BookingEventType], { description: "Event types sent here; empty: every type." })
  eventTypes!: BookingEventType[];

  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => String, { nullable: true, description: "Why it was disabled, when it was (410 Gone, failing for too long, by its owner)." })
  disabledReason!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  providerId!: string | null;
  ownerId!: string;
}

@ObjectType()
export class WebhookEndpointSecret {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field(() => String, { description: "whsec_ followed by base64; shown only here." })
  secret!: string;
}
