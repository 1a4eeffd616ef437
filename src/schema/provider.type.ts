import { Field, ID, ObjectType } from "type-graphql";
import { PageInfo } from "./page-info.type";

@ObjectType({ description: "Someone who offers appointments, e.g. a practitioner or a room." })
export class Provider {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "IANA time zone, e.g. Europe/Berlin." })
  timeZone!: string;

  @Field(() => Boolean)
  requiresConfirmation!: boolean;

  ownerId!: string;
  createdAt!: Date;
}

@ObjectType()
export class ProviderEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Provider)
  node!: Provider;
}

@ObjectType()
export class ProviderConnection {
  @Field(() => [ProviderEdge])
  edges!: ProviderEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
