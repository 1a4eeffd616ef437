/** @type {import('jest').Config} */
const swc = [
  "@swc/jest",
  {
    jsc: {
      parser: { syntax: "typescript", decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      target: "es2022",
    },
    // Keep import() native: ESM-only packages (fauxqs) load through jest's ESM support
    // (--experimental-vm-modules) instead of failing as require().
    module: { type: "commonjs", ignoreDynamic: true },
  },
];

module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": swc },
  setupFiles: ["reflect-metadata"],
  testTimeout: 60_000,
  // Files are isolated by database/schema, so they may run in parallel; two workers fit two cores.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
};
