import { Field, ID, ObjectType } from "type-graphql";
import { Role } from "./enums";

@ObjectType({ description: "An account." })
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Role)
  role!: Role;
}

@ObjectType()
export class AuthPayload {
  @Field(() => String, { description: "Short-lived JWT; send as `Authorization: Bearer <token>`." })
  accessToken!: string;

  @Field(() => String, { description: "Opaque, long-lived; stored only as a hash." })
  refreshToken!: string;

  @Field(() => User)
  user!: User;
}
