import { Field, ID, ObjectType } from "type-graphql";
import { BookingEventType, BookingStatus } from "./enums";
import { PageInfo } from "./page-info.type";

@ObjectType({ description: "One transition in a booking's history." })
export class BookingStatusChange {
  @Field(() => BookingStatus, { nullable: true })
  fromStatus!: BookingStatus | null;

  @Field(() => BookingStatus)
  toStatus!: BookingStatus;

  @Field(() => Date)
  at!: Date;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => ID, { nullable: true, description: "Who made the change; null when the system did." })
  actorId!: string | null;
}

@ObjectType({ description: "A customer's booking of one slot." })
export class Booking {
  @Field(() => ID)
  id!: string;

  @Field(() => BookingStatus)
  status!: BookingStatus;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => Date, { nullable: true, description: "When an unanswered PENDING booking expires and its slot is released." })
  holdExpiresAt!: Date | null;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  slotId!: string;
  providerId!: string;
  customerId!: string;
}

@ObjectType()
export class BookingEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Booking)
  node!: Booking;
}

@ObjectType()
export class BookingConnection {
  @Field(() => [BookingEdge])
  edges!: BookingEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType({ description: "A change to a booking, as delivered live." })
export class BookingEvent {
  @Field(() => ID)
  eventId!: string;

  @Field(() => BookingEventType)
  eventType!: BookingEventType;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => BookingStatus, { nullable: true })
  previousStatus!: BookingStatus | null;

  @Field(() => Booking)
  booking!: Booking;
}
