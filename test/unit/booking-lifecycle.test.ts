import fc from "fast-check";
import {
  ACTIVE_STATUSES,
  BOOKING_STATUSES,
  decideTransition,
  initialState,
  isActive,
  isHoldLapsed,
  type BookingAction,
  type BookingStatus,
} from "../../src/domain/booking-lifecycle";
import { ConflictError } from "../../src/domain/errors";

const ACTIONS: readonly BookingAction[] = ["accept", "reject", "cancel", "expire"];
const TERMINAL: readonly BookingStatus[] = ["REJECTED", "CANCELLED", "EXPIRED"];

// The lifecycle in DESIGN.md, written out independently of the implementation's table.
const ALLOWED: Record<string, { to: BookingStatus; event: string; slotStatus: string }> = {
  "PENDING:accept": { to: "CONFIRMED", event: "BOOKING_CONFIRMED", slotStatus: "BOOKED" },
  "PENDING:reject": { to: "REJECTED", event: "BOOKING_REJECTED", slotStatus: "AVAILABLE" },
  "PENDING:cancel": { to: "CANCELLED", event: "BOOKING_CANCELLED", slotStatus: "AVAILABLE" },
  "PENDING:expire": { to: "EXPIRED", event: "BOOKING_EXPIRED", slotStatus: "AVAILABLE" },
  "CONFIRMED:cancel": { to: "CANCELLED", event: "BOOKING_CANCELLED", slotStatus: "AVAILABLE" },
};

const allPairs = BOOKING_STATUSES.flatMap((status) => ACTIONS.map((action) => [status, action] as const));
const allowedPairs = allPairs.filter(([s, a]) => ALLOWED[`${s}:${a}`]);
const disallowedPairs = allPairs.filter(([s, a]) => !ALLOWED[`${s}:${a}`]);

function conflictReason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConflictError) return err.reason;
    throw err;
  }
  return undefined;
}

describe("decideTransition", () => {
  test("the table covers every status and action", () => {
    expect(allowedPairs).toHaveLength(5);
    expect(disallowedPairs).toHaveLength(BOOKING_STATUSES.length * ACTIONS.length - 5);
  });

  test.each(allowedPairs)("%s --%s--> allowed with the right target, event and slot status", (from, action) => {
    const expected = ALLOWED[`${from}:${action}`]!;
    expect(decideTransition(from, action)).toEqual({ from, to: expected.to, event: expected.event, slotStatus: expected.slotStatus });
  });

  test.each(disallowedPairs)("%s --%s--> refused with CONFLICT / INVALID_TRANSITION", (from, action) => {
    let caught: unknown;
    try {
      decideTransition(from, action);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConflictError);
    expect((caught as ConflictError).code).toBe("CONFLICT");
    expect((caught as ConflictError).reason).toBe("INVALID_TRANSITION");
    expect((caught as ConflictError).message).toContain(from);
  });

  test.each(TERMINAL)("terminal status %s allows no action at all", (status) => {
    for (const action of ACTIONS) expect(conflictReason(() => decideTransition(status, action))).toBe("INVALID_TRANSITION");
  });
});

describe("isActive", () => {
  test("only PENDING and CONFIRMED occupy a slot", () => {
    expect([...ACTIVE_STATUSES].sort()).toEqual(["CONFIRMED", "PENDING"]);
    expect(BOOKING_STATUSES.filter(isActive).sort()).toEqual(["CONFIRMED", "PENDING"]);
  });
});

describe("initialState", () => {
  const now = new Date("2030-03-04T10:20:30.000Z");

  test("requiresConfirmation true: PENDING, slot HELD, hold ends now + hold minutes", () => {
    expect(initialState(true, now, 15)).toEqual({
      status: "PENDING",
      slotStatus: "HELD",
      holdExpiresAt: new Date("2030-03-04T10:35:30.000Z"),
    });
    expect(initialState(true, now, 1).holdExpiresAt).toEqual(new Date(now.getTime() + 60_000));
    expect(initialState(true, now, 7 * 24 * 60).holdExpiresAt).toEqual(new Date("2030-03-11T10:20:30.000Z"));
  });

  test("requiresConfirmation false: CONFIRMED at once, slot BOOKED, no hold", () => {
    expect(initialState(false, now, 15)).toEqual({ status: "CONFIRMED", slotStatus: "BOOKED", holdExpiresAt: null });
  });

  test("does not mutate the instant it is given", () => {
    const at = new Date(now);
    initialState(true, at, 30);
    expect(at).toEqual(now);
  });
});

describe("isHoldLapsed", () => {
  const hold = new Date("2030-01-01T12:00:00.000Z");
  const ms = (delta: number) => new Date(hold.getTime() + delta);

  test("PENDING: not lapsed one millisecond before, lapsed exactly at and after the hold's end", () => {
    expect(isHoldLapsed("PENDING", hold, ms(-1))).toBe(false);
    expect(isHoldLapsed("PENDING", hold, ms(0))).toBe(true);
    expect(isHoldLapsed("PENDING", hold, ms(1))).toBe(true);
    expect(isHoldLapsed("PENDING", hold, ms(86_400_000))).toBe(true);
  });

  test("PENDING without a hold never lapses", () => {
    expect(isHoldLapsed("PENDING", null, ms(86_400_000))).toBe(false);
  });

  test.each(BOOKING_STATUSES.filter((s) => s !== "PENDING"))("%s never counts as a lapsed hold", (status) => {
    expect(isHoldLapsed(status, hold, ms(1))).toBe(false);
    expect(isHoldLapsed(status, hold, ms(0))).toBe(false);
  });
});

describe("lifecycle properties", () => {
  test("from PENDING, any action sequence stays in one active run and never leaves a terminal state", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ACTIONS), { maxLength: 30 }), (actions) => {
        let status: BookingStatus = "PENDING";
        const trail: BookingStatus[] = [status];
        for (const action of actions) {
          const before: BookingStatus = status;
          let next: BookingStatus;
          try {
            next = decideTransition(before, action).to;
          } catch (err) {
            // A refusal must be the domain conflict and must leave the status as it was.
            expect(err).toBeInstanceOf(ConflictError);
            expect((err as ConflictError).reason).toBe("INVALID_TRANSITION");
            continue;
          }
          expect(TERMINAL).not.toContain(before);
          expect(next).not.toBe(before);
          status = next;
          trail.push(status);
        }
        // Active statuses form one unbroken prefix: once inactive, never active again.
        const firstInactive = trail.findIndex((s) => !isActive(s));
        if (firstInactive >= 0) {
          expect(trail.slice(firstInactive).every((s) => TERMINAL.includes(s))).toBe(true);
          // Terminal means terminal: exactly one terminal state, and it is the last.
          expect(trail.length - firstInactive).toBe(1);
        }
        // PENDING can only come first, and CONFIRMED at most once.
        expect(trail.lastIndexOf("PENDING")).toBe(0);
        expect(trail.filter((s) => s === "CONFIRMED").length).toBeLessThanOrEqual(1);
        expect(trail.length).toBeLessThanOrEqual(3);
      }),
      { numRuns: 500 },
    );
  });

  test("every status reachable from PENDING is reached only through allowed transitions", () => {
    fc.assert(
      fc.property(fc.constantFrom(...BOOKING_STATUSES), fc.constantFrom(...ACTIONS), (from, action) => {
        const key = `${from}:${action}`;
        const reason = conflictReason(() => decideTransition(from, action));
        expect(reason === undefined).toBe(Boolean(ALLOWED[key]));
      }),
    );
  });
});
