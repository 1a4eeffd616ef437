import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { LoginDocument } from "../generated/graphql";
import { executeOk } from "../support/graphql-client";
import { assertBuilt, killProcess, ROOT, startMain, type ServerProcess } from "../support/server-process";

/**
 * PGlite is single-process: a second process on the same embedded data directory used to start
 * and silently lose its writes (`npm run admin:create` beside `npm start` said "admin … is
 * ready", and the admin never existed). Now every process locks the directory, and a second one
 * refuses at once with a message naming the directory and what to do. Real processes.
 */

const CREATE_ADMIN = path.join(ROOT, "dist/src/cli/create-admin.js");
const TEST_TIMEOUT_MS = 240_000;
const processes: ServerProcess[] = [];
let dataDir: string;

beforeAll(() => {
  assertBuilt();
  dataDir = path.join(mkdtempSync(path.join(tmpdir(), "slotwise-lock-")), "pglite");
});
afterEach(async () => {
  for (const p of processes.splice(0)) await killProcess(p);
});
afterAll(() => rmSync(path.dirname(dataDir), { recursive: true, force: true }));

function createAdmin(email: string, password: string): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [CREATE_ADMIN, "--email", email, "--password", password], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "development", LOG_LEVEL: "warn", PGLITE_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  return new Promise((resolve) => child.on("exit", (status) => resolve({ status, stdout, stderr, ms: Date.now() - started })));
}

const start = (opts: { waitForListening?: boolean } = {}) =>
  startMain({ PGLITE_DIR: dataDir }, opts).then((p) => (processes.push(p), p));

test(
  "a second process on a running server's embedded data directory (admin:create, another server) refuses at once and names the directory; after the holder dies, the lock is taken over and writes persist",
  async () => {
    const first = await start();
    const email = `admin-${Date.now()}@example.test`;
    const password = "correct-horse-battery-staple";

    const refused = await createAdmin(email, password);
    expect(refused.status).toBe(1);
    expect(refused.stdout).not.toContain("is ready");
    expect(refused.stderr).toContain(path.resolve(dataDir));
    expect(refused.stderr).toContain("in use by another Slotwise process");
    expect(refused.stderr).toContain("PGLITE_DIR");
    expect(refused.stderr).not.toContain("    at ");

    const second = await start({ waitForListening: false });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(path.resolve(dataDir));
    expect(second.stderr()).toContain("Stop the other process");
    expect(second.lines.some((l) => String(l.msg).includes("Slotwise listening on"))).toBe(false);
    // The first server was not disturbed.
    expect((await fetch(`${first.base}/readyz`)).status).toBe(200);

    // A holder killed outright leaves its lock behind; the next process takes it over at once.
    first.child.kill("SIGKILL");
    await first.exited;
    expect(existsSync(`${path.resolve(dataDir)}.lock`)).toBe(true);
    const created = await createAdmin(email, password);
    expect(created.stderr).toBe("");
    expect(created.stdout).toContain(`admin ${email}`);
    expect(created.status).toBe(0);

    // The admin written by the CLI is there for the next server.
    const third = await start();
    const login = await executeOk(third.url, LoginDocument, { email, password });
    expect(login.login.user.role).toBe("ADMIN");
  },
  TEST_TIMEOUT_MS,
);
