import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { EVENT_SCHEMA_FILE, renderEventSchemaFile } from "../../scripts/emit-event-schema";
import { BOOKING_EVENT_TYPES, bookingEventEnvelopeSchema } from "../../src/public-api";
import { buildEnvelope } from "../../src/events/envelope";

/**
 * The published event contract: the committed JSON Schema is what the code emits, and every
 * example in docs/events.md is valid against both it and the zod schema the code validates with.
 */

const root = path.resolve(__dirname, "../..");
const committedSchemaText = readFileSync(path.join(root, EVENT_SCHEMA_FILE), "utf8");
const jsonSchema = JSON.parse(committedSchemaText) as Record<string, unknown>;

function validatorOf(schema: Record<string, unknown>) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** Validation errors of `body` (empty when valid), so a failure shows which field is wrong. */
function schemaErrors(validate: ReturnType<typeof validatorOf>, body: unknown): unknown[] {
  return validate(body) ? [] : (validate.errors ?? ["invalid"]);
}

/** `### BOOKING_X` headings of docs/events.md, each with the first ```json block after it. */
function docExamples(): { heading: string; body: Record<string, unknown> }[] {
  const md = readFileSync(path.join(root, "docs/events.md"), "utf8");
  const sections = md.split(/^### /m).slice(1);
  return sections
    .map((section) => ({ heading: section.split("\n", 1)[0]!.trim(), json: /```json\n([\s\S]*?)\n```/.exec(section)?.[1] }))
    .filter((s): s is { heading: string; json: string } => s.json !== undefined)
    .map((s) => ({ heading: s.heading, body: JSON.parse(s.json) as Record<string, unknown> }));
}

describe("booking event contract", () => {
  test("the committed JSON Schema is exactly what `npm run events:schema` emits from the zod schema", () => {
    expect(committedSchemaText).toBe(renderEventSchemaFile());
    expect(jsonSchema).toMatchObject({ $schema: "https://json-schema.org/draft/2020-12/schema", $id: expect.any(String), title: expect.any(String) });
  });

  test("docs/events.md has one example per event type, under a heading naming its type", () => {
    const examples = docExamples();
    expect(examples.map((e) => e.heading).sort()).toEqual([...BOOKING_EVENT_TYPES].sort());
    for (const e of examples) expect(e.body.eventType).toBe(e.heading);
  });

  test.each(docExamples())("the $heading example is valid against the JSON Schema and the zod schema, using only known fields", ({ body }) => {
    const validate = validatorOf(jsonSchema);
    expect(schemaErrors(validate, body)).toEqual([]);
    expect(bookingEventEnvelopeSchema.strict().safeParse(body).error).toBeUndefined();
  });

  test("the examples carry the type-specific fields", () => {
    const byType = Object.fromEntries(docExamples().map((e) => [e.heading, e.body]));
    expect(byType.BOOKING_CONFIRMED).toHaveProperty("acceptedAt");
    expect(byType.BOOKING_RESCHEDULED).toEqual(expect.objectContaining({ previousSlotId: expect.any(String), previousSlotStart: expect.any(String), previousSlotEnd: expect.any(String) }));
    expect(byType.BOOKING_REMINDER).toHaveProperty("reminderOffsetMinutes");
    for (const [type, body] of Object.entries(byType)) {
      if (type !== "BOOKING_CONFIRMED") expect(body).not.toHaveProperty("acceptedAt");
    }
  });

  test("the JSON Schema rejects what the code rejects: a bad id, a missing field, a non-UTC instant, an unknown type", () => {
    const validate = validatorOf(jsonSchema);
    const good = docExamples()[0]!.body;
    const bad = [
      { ...good, eventId: "not-a-uuid" },
      Object.fromEntries(Object.entries(good).filter(([k]) => k !== "providerId")),
      { ...good, slotStart: "2026-03-02T10:30:00+01:00" },
      { ...good, eventType: "BOOKING_DELETED" },
      { ...good, version: 2 },
    ];
    for (const body of bad) {
      expect(validate(body)).toBe(false);
      expect(bookingEventEnvelopeSchema.safeParse(body).success).toBe(false);
    }
  });

  test("an envelope built by the producer is valid against the JSON Schema, and unknown extra fields are accepted as the code accepts them", () => {
    const validate = validatorOf(jsonSchema);
    const startsAt = new Date("2031-01-01T10:00:00.000Z");
    for (const type of BOOKING_EVENT_TYPES) {
      const event = buildEnvelope(
        type,
        {
          booking: { id: randomUUID(), providerId: randomUUID(), slotId: randomUUID(), customerId: randomUUID(), status: "CONFIRMED" },
          slot: { startsAt, endsAt: new Date(startsAt.getTime() + 3_600_000) },
        },
        { at: new Date(), previousStatus: "PENDING", actorId: null },
      );
      expect(schemaErrors(validate, event)).toEqual([]);
      const withExtra = { ...event, addedLater: "x" };
      expect(validate(withExtra)).toBe(true);
      expect(bookingEventEnvelopeSchema.safeParse(withExtra).success).toBe(true);
    }
  });
});
