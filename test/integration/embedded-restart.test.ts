import { mkdtempSync, rmSync, statSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config";
import { startServer, type RunningServer } from "../../src/server";
import { EMBEDDED_KEY_FILE, resolveSigningSecret } from "../../src/services/signing-key";
import { MeDocument } from "../generated/graphql";
import { registerUser } from "../support/factories";
import { execute, executeOk } from "../support/graphql-client";

/**
 * The embedded default without JWT_SECRET keeps its generated signing key in PGLITE_DIR, so a
 * restart keeps everybody logged in. This is the embedded database's behaviour in both modes
 * (the servers here are embedded on purpose); the PostgreSQL-mode and production rules are the
 * unit cases below.
 */

const embeddedEnv = (dir: string) => ({ NODE_ENV: "test", PORT: "0", PGLITE_DIR: dir, OUTBOX_RELAY: "off", WORKERS: "off" });

describe("a restart of the embedded default without JWT_SECRET", () => {
  let dir: string;
  let server: RunningServer | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "slotwise-embedded-"));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  test("keeps a token issued before it valid, with the key in PGLITE_DIR readable by its owner only; another data directory refuses it", async () => {
    server = await startServer(loadConfig(embeddedEnv(dir)));
    const user = await registerUser(server.url, "CUSTOMER");
    expect((await executeOk(server.url, MeDocument, {}, user.token)).me?.id).toBe(user.id);
    await server.stop();

    server = await startServer(loadConfig(embeddedEnv(dir)));
    expect((await executeOk(server.url, MeDocument, {}, user.token)).me?.id).toBe(user.id);
    await server.stop();
    const keyFile = path.join(dir, EMBEDDED_KEY_FILE);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);

    // The token is valid because of that directory's key, not a built-in one.
    server = await startServer(loadConfig(embeddedEnv("memory://")));
    const res = await execute(server.url, MeDocument, {}, user.token);
    expect(res.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("resolveSigningSecret", () => {
  test("JWT_SECRET wins and nothing is written", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "slotwise-key-"));
    try {
      const secret = "s".repeat(40);
      expect(resolveSigningSecret(loadConfig({ PGLITE_DIR: dir, JWT_SECRET: secret }))).toEqual({ secret, source: "JWT_SECRET" });
      expect(existsSync(path.join(dir, EMBEDDED_KEY_FILE))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("memory:// and DATABASE_URL keep a random key in memory only", () => {
    const memory = resolveSigningSecret(loadConfig({ PGLITE_DIR: "memory://" }));
    expect(memory.source).toBe("process");
    expect(memory.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(resolveSigningSecret(loadConfig({ PGLITE_DIR: "memory://" })).secret).not.toBe(memory.secret);
    expect(resolveSigningSecret(loadConfig({ DATABASE_URL: "postgres://u@h/d" })).source).toBe("process");
  });

  test("production never generates a key", () => {
    const config = { ...loadConfig({ DATABASE_URL: "postgres://u@h/d" }), isProduction: true, databaseUrl: undefined };
    expect(() => resolveSigningSecret(config)).toThrow("JWT_SECRET is required");
  });
});
