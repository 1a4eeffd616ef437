import { Field, ObjectType } from "type-graphql";
import { BookingEvent } from "./booking.type";
import { PageInfo } from "./page-info.type";

@ObjectType({ description: "One committed event of the event log, with its position." })
export class BookingEventEdge {
  @Field(() => String, { description: "Opaque, ordered: pass it as `after` to continue from this event." })
  cursor!: string;

  @Field(() => BookingEvent)
  node!: BookingEvent;
}

@ObjectType({ description: "A page of the event log, oldest first." })
export class BookingEventConnection {
  @Field(() => [BookingEventEdge])
  edges!: BookingEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
