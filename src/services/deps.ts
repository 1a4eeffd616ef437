import type { Db } from "../db/client";
import type { Clock } from "../domain/clock";
import type { UnitOfWork } from "./unit-of-work";

/**
 * What most use-cases need; each service's constructor takes one deps object that extends it,
 * so adding a dependency is one line in that interface (and one in `createServices`).
 */
export interface UseCaseDeps {
  db: Db;
  clock: Clock;
  /** Runs a change in one transaction and publishes it after commit. */
  uow: UnitOfWork;
}
