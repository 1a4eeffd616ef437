import { Field, InputType } from "type-graphql";
import { Role } from "./enums";

@InputType()
export class RegisterInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, { description: "At least 8 characters." })
  password!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Role, { description: "CUSTOMER or PROVIDER; ADMIN cannot be self-assigned." })
  role!: Role;
}
