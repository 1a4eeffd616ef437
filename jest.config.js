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
  // A worker that has run a few e2e files is 0.2-0.7 GB (PGlite's WebAssembly memory and code
  // above all). Asked to end, it has no handle left and its "exit" event fires at once, but
  // tearing that address space down takes 0.3-0.6 s on this 2-core machine (measured), past
  // jest's default grace of 500 ms: jest then kills it and reports "A worker process has failed
  // to exit gracefully" although nothing leaked. A worker that does leak a handle still gets
  // that report, 5 s later.
  workerGracefulExitTimeout: 5_000,
};
