import { execSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * `npm start`, `npm run consumer` and the other CLIs build first (`npm run build`). That build
 * must be a no-op when dist/ is current, and must still build a fresh clone and a changed
 * source. Checked with the project's own build script and tsconfig files on a two-file project
 * in a scratch directory (the real sources would take a full compile per case).
 */

const root = path.resolve(__dirname, "../..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };

describe("npm run build", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "slotwise-build-"));
    for (const f of ["tsconfig.json", "tsconfig.build.json", "package.json"]) cpSync(path.join(root, f), path.join(dir, f));
    symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
    mkdirSync(path.join(dir, "src"));
    writeFileSync(path.join(dir, "src/main.ts"), 'import { greeting } from "./greeting";\nexport const main = (): string => greeting;\n');
    writeFileSync(path.join(dir, "src/greeting.ts"), 'export const greeting: string = "one";\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const build = () => execSync("npm run --silent build", { cwd: dir, stdio: "pipe", env: { ...process.env, npm_config_update_notifier: "false" } });
  const mtime = (f: string) => statSync(path.join(dir, "dist/src", f)).mtimeMs;

  test("start, consumer and the other CLIs go through it", () => {
    expect(pkg.scripts.prestart).toBe("npm run build");
    for (const name of ["admin:create", "consumer", "queues:setup"]) expect(pkg.scripts[name]).toMatch(/^npm run build && node dist\//);
  });

  test("builds a fresh clone, leaves a current dist/ untouched, and rebuilds a changed source", () => {
    build();
    expect(readFileSync(path.join(dir, "dist/src/greeting.js"), "utf8")).toContain('"one"');
    const before = { main: mtime("main.js"), greeting: mtime("greeting.js") };

    build();
    expect({ main: mtime("main.js"), greeting: mtime("greeting.js") }).toEqual(before);

    writeFileSync(path.join(dir, "src/greeting.ts"), 'export const greeting: string = "two";\n');
    // A clearly later mtime, whatever the file system's timestamp resolution.
    const later = new Date(Date.now() + 5_000);
    utimesSync(path.join(dir, "src/greeting.ts"), later, later);
    build();
    expect(readFileSync(path.join(dir, "dist/src/greeting.js"), "utf8")).toContain('"two"');
  });
});
