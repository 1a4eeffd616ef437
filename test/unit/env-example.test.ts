import { readFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../src/config";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

/**
 * The variable names of the zod `envSchema` in src/config.ts, read from its source so that
 * src/ need not export the schema. Each entry starts a line indented by exactly four spaces
 * inside the `z.object({ ... })` block, which ends at the first line that is just `  });`.
 */
function schemaKeys(): string[] {
  const source = read("src/config.ts");
  const start = source.indexOf("const envSchema = z");
  if (start < 0) throw new Error("src/config.ts: `const envSchema = z` not found");
  const end = source.indexOf("\n  });", start);
  if (end < 0) throw new Error("src/config.ts: end of the envSchema object not found");
  return [...source.slice(start, end).matchAll(/^ {4}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!);
}

/** Names loadConfig reads from the parsed schema (`e.NAME`), a cross-check on schemaKeys(). */
function namesUsedByLoadConfig(): string[] {
  const source = read("src/config.ts");
  const body = source.slice(source.indexOf("export function loadConfig"));
  return [...new Set([...body.matchAll(/\be\.([A-Z][A-Z0-9_]*)\b/g)].map((m) => m[1]!))];
}

interface EnvLine {
  name: string;
  value: string;
  /** 0-based line number in the file. */
  line: number;
}

/** A strict reader for the dotenv subset .env.example may use: `NAME=value`, comments, blanks. */
function parseEnvFile(text: string): EnvLine[] {
  const out: EnvLine[] = [];
  text.split("\n").forEach((raw, line) => {
    const s = raw.trim();
    if (s === "" || s.startsWith("#")) return;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(s);
    if (!m) throw new Error(`.env.example line ${line + 1} is not NAME=value: ${raw}`);
    let value = m[2]!.trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    out.push({ name: m[1]!, value, line });
  });
  return out;
}

const envExample = read(".env.example");
const entries = parseEnvFile(envExample);
const envObject = Object.fromEntries(entries.map((e) => [e.name, e.value]));

describe(".env.example", () => {
  test("the envSchema keys read from src/config.ts are the names loadConfig uses", () => {
    expect(schemaKeys().sort()).toEqual(namesUsedByLoadConfig().sort());
  });

  test("lists exactly the variables of src/config.ts's envSchema, each once", () => {
    const names = entries.map((e) => e.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect([...names].sort()).toEqual(schemaKeys().sort());
  });

  test("its values, loaded as they are, give the same configuration as an empty environment", () => {
    expect(loadConfig(envObject)).toEqual(loadConfig({}));
  });

  test("every variable has a comment above it (alone or as the first of a group)", () => {
    const lines = envExample.split("\n");
    const undocumented = entries
      .filter(({ line }) => {
        for (let i = line - 1; i >= 0 && lines[i]!.trim() !== ""; i--) {
          if (lines[i]!.trim().startsWith("#")) return false;
        }
        return true;
      })
      .map((e) => e.name);
    expect(undocumented).toEqual([]);
  });
});

// The operations section of the README holds the configuration table.
const DOC = "README.md";

describe(`${DOC} configuration table`, () => {
  const rows = new Map<string, string>();
  for (const m of read(DOC).matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|/gm)) rows.set(m[1]!, m[2]!.trim());

  test("has a row for every variable of the schema and no other", () => {
    expect([...rows.keys()].sort()).toEqual(schemaKeys().sort());
  });

  test("states the same default as .env.example (or `unset` where it is empty)", () => {
    const mismatches = entries
      .filter(({ name, value }) => {
        const cell = rows.get(name) ?? "";
        return value === "" ? !cell.startsWith("unset") : !cell.includes(`\`${value}\``);
      })
      .map(({ name, value }) => `${name}: .env.example "${value}", table "${rows.get(name)}"`);
    expect(mismatches).toEqual([]);
  });
});
