import { defineConfig } from "drizzle-kit";

// Used only to generate migrations (`npm run db:generate`); no database is contacted.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
});
