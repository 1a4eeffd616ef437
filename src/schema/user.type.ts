import { Field, ID, ObjectType } from "type-graphql";
import { Role } from "./enums";

@ObjectType({ description: "An account." })
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String, {
    nullable: true,
    description: "Only for the user, admins, and the other party of a booking they share; null for anyone else.",
  })
  email!: string | null;

  @Field(() => String)
  name!: string;

  @Field(() => Role)
  role!: Role;

  /** Not in the schema: set on the account an auth payload signs in, whose caller is that user though the request is anonymous. */
  signedIn?: boolean;
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
