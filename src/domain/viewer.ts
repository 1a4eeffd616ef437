import type { Role } from "./enums";

/**
 * The authenticated caller: who asks, and in which role. Every use-case takes one (or null for an
 * anonymous caller); how it was authenticated (a JWT, see `src/services/token.service.ts`) is
 * not its concern.
 */
export interface Viewer {
  userId: string;
  role: Role;
}
