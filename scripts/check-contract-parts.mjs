#!/usr/bin/env node
// Checks the emitted schema against a chosen set of contract parts read together, for parts
// built before the parts they follow (the shared checker, check.mjs, is cumulative: part N is
// checked with 1..N-1, so part 6 cannot be checked there until parts 4 and 5 exist).
//
//   node scripts/check-contract-parts.mjs schema.graphql <contract dir> 1-core 2-scheduling 3-session 6-integrations
//
// Exit 0: compatible; 1: breaking differences (printed); 2: usage error.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const [emittedPath, dir, ...parts] = process.argv.slice(2);
if (!emittedPath || !dir || parts.length === 0) {
  console.error("usage: node scripts/check-contract-parts.mjs <schema.graphql> <contract dir> <part> [part ...]");
  process.exit(2);
}
const require = createRequire(join(process.cwd(), "package.json"));
const { buildSchema, findBreakingChanges } = require("graphql");
const sdl = parts.map((p) => readFileSync(join(dir, p.endsWith(".graphql") ? p : `${p}.graphql`), "utf8")).join("\n");
const breaking = findBreakingChanges(buildSchema(sdl), buildSchema(readFileSync(resolve(emittedPath), "utf8")));
if (breaking.length === 0) {
  console.log(`${parts.join(" + ")}: compatible`);
  process.exit(0);
}
console.log(`${parts.join(" + ")}: ${breaking.length} breaking difference(s)`);
for (const change of breaking) console.log(`  ${change.type}: ${change.description}`);
process.exit(1);
