import { Arg, Ctx, Mutation, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "./context";
import { RegisterInput } from "../schema/auth.input";
import { AuthPayload, User } from "../schema/user.type";
import type { AuthResult, AuthService } from "../services/auth.service";

/** The payload's user is the account just signed in: its own email is shown, though the request is anonymous. */
const signedIn = async (result: Promise<AuthResult>): Promise<AuthPayload> => {
  const r = await result;
  return { ...r, user: { ...r.user, signedIn: true } };
};

@Resolver()
export class AuthResolver {
  constructor(private readonly auth: AuthService) {}

  @Query(() => User, { nullable: true, description: "The signed-in user; null when anonymous." })
  me(@Ctx() ctx: GraphQLContext): Promise<User | null> {
    return this.auth.me(ctx.viewer);
  }

  @Mutation(() => AuthPayload)
  register(@Arg("input", () => RegisterInput) input: RegisterInput, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    return signedIn(this.auth.register(input));
  }

  @Mutation(() => AuthPayload)
  login(
    @Arg("email", () => String) email: string,
    @Arg("password", () => String) password: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuthPayload> {
    return signedIn(this.auth.login(email, password, ctx.clientAddress));
  }

  @Mutation(() => AuthPayload, {
    description: "Trades a refresh token for a new pair; each refresh token works once, and reusing one revokes the whole session.",
  })
  refreshToken(@Arg("refreshToken", () => String) refreshToken: string, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    return signedIn(this.auth.refresh(refreshToken));
  }

  @Mutation(() => Boolean, { description: "Revokes the session that the refresh token belongs to." })
  logout(@Arg("refreshToken", () => String) refreshToken: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.auth.logout(refreshToken);
  }
}
