import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { LoginDocument, MeDocument } from "../generated/graphql";
import { MODE_DATABASE_URL, MODE_REDIS_URL, createPostgresDatabase } from "../support/backends";
import { createProvider, registerUser, type TestUser } from "../support/factories";
import { execute, executeOk, subscribe, wsClient } from "../support/graphql-client";
import { SlotAvailabilityChangedDocument } from "../generated/graphql";
import { startTestServer, type TestServer, type TestServerOptions } from "../support/test-server";
import { settle } from "../support/wait";

/**
 * Issue 10 item 5: `ADMIN_EMAIL` at start-up and `npm run admin:create` never promote an existing
 * non-admin account silently (whoever registered the address first would become ADMIN through
 * the sessions they hold). Both refuse with a message naming the explicit option
 * (`ADMIN_PROMOTE_EXISTING=true`, `--promote`); with it, the account becomes ADMIN with the new
 * password and every session it had is revoked. An admin whose password the command changes
 * loses its sessions too; one whose password matches keeps them (a restart logs nobody out).
 */
// Each test starts servers on a persistent PGlite directory several times (a few seconds each).
jest.setTimeout(150_000);
const root = path.resolve(__dirname, "../..");
const ADMIN_PASSWORD = "admin-password-0123456789";

/** One database that outlives several server starts and CLI runs: PostgreSQL in that mode, a PGlite directory otherwise. */
async function persistentStore(): Promise<{ server: TestServerOptions; cliEnv: Record<string, string>; drop(): Promise<void> }> {
  if (MODE_DATABASE_URL) {
    const db = await createPostgresDatabase(MODE_DATABASE_URL);
    return { server: { databaseUrl: db.url }, cliEnv: { DATABASE_URL: db.url, ...(MODE_REDIS_URL ? { REDIS_URL: MODE_REDIS_URL } : {}) }, drop: db.drop };
  }
  const dir = await mkdtemp(path.join(tmpdir(), "slotwise-admin-"));
  return { server: { env: { PGLITE_DIR: dir } }, cliEnv: { PGLITE_DIR: dir }, drop: () => rm(dir, { recursive: true, force: true }) };
}

function adminCreate(env: Record<string, string>, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/create-admin.ts", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "development", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

const roleOf = async (url: string, token: string) => {
  const r = await execute(url, MeDocument, {}, token);
  return r.status === 401 ? "REVOKED" : r.data?.me?.role;
};
const loginAs = async (url: string, email: string, password: string) => (await executeOk(url, LoginDocument, { email, password })).login;

let store: Awaited<ReturnType<typeof persistentStore>>;
let running: TestServer | undefined;
beforeEach(async () => {
  store = await persistentStore();
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  await store.drop();
});
const start = async (env: Record<string, string> = {}) => {
  await running?.close();
  running = await startTestServer({ ...store.server, env: { ...store.server.env, ...env } });
  return running;
};
const stop = async () => {
  await running?.close();
  running = undefined;
};

/** A CUSTOMER who registered the address first, with a live session. */
async function squat(): Promise<TestUser> {
  const server = await start();
  return registerUser(server.url);
}

describe("ADMIN_EMAIL at start-up", () => {
  test("an existing CUSTOMER with that email: start-up refuses, naming ADMIN_PROMOTE_EXISTING; the account stays CUSTOMER", async () => {
    const squatter = await squat();
    await stop();
    await expect(start({ ADMIN_EMAIL: squatter.email, ADMIN_PASSWORD })).rejects.toThrow(/already registered as a CUSTOMER.*ADMIN_PROMOTE_EXISTING/s);
    const server = await start();
    expect(await roleOf(server.url, squatter.token)).toBe("CUSTOMER");
    await expect(loginAs(server.url, squatter.email, ADMIN_PASSWORD)).rejects.toThrow(/UNAUTHENTICATED|Invalid email or password/);
  });

  test("with ADMIN_PROMOTE_EXISTING=true it becomes ADMIN with ADMIN_PASSWORD and its old sessions are revoked", async () => {
    const squatter = await squat();
    await stop();
    const server = await start({ ADMIN_EMAIL: squatter.email, ADMIN_PASSWORD, ADMIN_PROMOTE_EXISTING: "true" });
    expect(await roleOf(server.url, squatter.token)).toBe("REVOKED");
    const admin = await loginAs(server.url, squatter.email, ADMIN_PASSWORD);
    expect(admin.user.role).toBe("ADMIN");
  });

  test("a new admin is created; a restart with the same password keeps its sessions, a new password revokes them", async () => {
    const email = `admin-${randomUUID()}@example.test`;
    let server = await start({ ADMIN_EMAIL: email, ADMIN_PASSWORD });
    const session = await loginAs(server.url, email, ADMIN_PASSWORD);
    expect(session.user.role).toBe("ADMIN");
    server = await start({ ADMIN_EMAIL: email, ADMIN_PASSWORD });
    expect(await roleOf(server.url, session.accessToken)).toBe("ADMIN");
    server = await start({ ADMIN_EMAIL: email, ADMIN_PASSWORD: `${ADMIN_PASSWORD}-new` });
    expect(await roleOf(server.url, session.accessToken)).toBe("REVOKED");
    expect((await loginAs(server.url, email, `${ADMIN_PASSWORD}-new`)).user.role).toBe("ADMIN");
  });
});

describe("npm run admin:create", () => {
  test("an existing CUSTOMER: refused (exit 1) with a message naming --promote; nothing changes", async () => {
    const squatter = await squat();
    await stop();
    const r = await adminCreate(store.cliEnv, ["--email", squatter.email, "--password", ADMIN_PASSWORD]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already registered as a CUSTOMER.*--promote/s);
    expect(r.stdout).not.toMatch(/ready|promoted/);
    const server = await start();
    expect(await roleOf(server.url, squatter.token)).toBe("CUSTOMER");
  });

  test("--promote makes it ADMIN with the new password and revokes every session it had", async () => {
    const squatter = await squat();
    const second = await loginAs(running!.url, squatter.email, squatter.password);
    await stop();
    const r = await adminCreate(store.cliEnv, ["--email", squatter.email, "--password", ADMIN_PASSWORD, "--promote"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/promoted to ADMIN.*2 session\(s\) revoked/);
    const server = await start();
    expect(await roleOf(server.url, squatter.token)).toBe("REVOKED");
    expect(await roleOf(server.url, second.accessToken)).toBe("REVOKED");
    expect((await loginAs(server.url, squatter.email, ADMIN_PASSWORD)).user.role).toBe("ADMIN");
  });

  test("a new email creates the admin; run again with another password, it resets it and revokes the admin's sessions", async () => {
    const email = `ops-${randomUUID()}@example.test`;
    const created = await adminCreate(store.cliEnv, ["--email", email, "--password", ADMIN_PASSWORD]);
    expect(created).toMatchObject({ code: 0 });
    expect(created.stdout).toMatch(/created/);
    let server = await start();
    const session = await loginAs(server.url, email, ADMIN_PASSWORD);
    await stop();
    const same = await adminCreate(store.cliEnv, ["--email", email, "--password", ADMIN_PASSWORD]);
    expect(same.stdout).toMatch(/nothing changed/);
    const reset = await adminCreate(store.cliEnv, ["--email", email, "--password", `${ADMIN_PASSWORD}-2`]);
    expect(reset.stdout).toMatch(/password was reset; 1 session\(s\) revoked/);
    server = await start();
    expect(await roleOf(server.url, session.accessToken)).toBe("REVOKED");
  });

  // Two processes on one database need PostgreSQL (PGlite is single-process); the CLI reaches the
  // running server's sockets through Redis.
  const sharedServices = MODE_DATABASE_URL && MODE_REDIS_URL ? test : test.skip;
  sharedServices("with PostgreSQL and Redis, --promote closes the account's open sockets on a running server (4403)", async () => {
    const squatter = await squat();
    const owner = await registerUser(running!.url, "PROVIDER");
    const provider = await createProvider(running!.url, owner);
    const client = wsClient(running!.wsUrl, squatter.token);
    const closed = new Promise<number>((resolve) => client.on("closed", (e) => resolve((e as { code: number }).code)));
    const connected = new Promise<void>((resolve) => client.on("connected", () => resolve()));
    try {
      subscribe(client, SlotAvailabilityChangedDocument, { providerId: provider.id });
      await connected;
      await settle();
      const r = await adminCreate(store.cliEnv, ["--email", squatter.email, "--password", ADMIN_PASSWORD, "--promote"]);
      expect(r.code).toBe(0);
      expect(await Promise.race([closed, settle(3_000).then(() => "open")])).toBe(4403);
    } finally {
      await client.dispose();
    }
  });
});
