import { ConfigError, loadConfig } from "../../src/config";

const SECRET = "x".repeat(32);

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected ConfigError, loadConfig succeeded");
}

describe("loadConfig", () => {
  test("an empty environment gives the embedded defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      nodeEnv: "development",
      isProduction: false,
      port: 4000,
      host: "127.0.0.1",
      pgliteDir: ".data/pglite",
      bookingHoldMinutes: 15,
      sqsEmulatorPort: 9324,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlDays: 30,
      aws: { region: "us-east-1" },
      logLevel: "info",
    });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.jwtSecret).toBeUndefined();
    expect(c.admin).toBeUndefined();
    expect(c.aws.sqsEndpoint).toBeUndefined();
    expect(c.queues).toEqual({ bookingRequest: undefined, bookingConfirmation: undefined, bookingEvents: undefined });
  });

  test("it does not read process.env when given an object", () => {
    const saved = process.env.PORT;
    process.env.PORT = "5555";
    try {
      expect(loadConfig({}).port).toBe(4000);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  test("empty strings count as unset", () => {
    const c = loadConfig({ DATABASE_URL: "", REDIS_URL: "  ", JWT_SECRET: "" });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.jwtSecret).toBeUndefined();
  });

  test("numbers are coerced from strings", () => {
    const c = loadConfig({ PORT: "8080", BOOKING_HOLD_MINUTES: "45", SQS_EMULATOR_PORT: "9999", DATABASE_POOL_MAX: "7", ACCESS_TOKEN_TTL_SECONDS: "60" });
    expect(c.port).toBe(8080);
    expect(c.bookingHoldMinutes).toBe(45);
    expect(c.sqsEmulatorPort).toBe(9999);
    expect(c.databasePoolMax).toBe(7);
    expect(c.accessTokenTtlSeconds).toBe(60);
  });

  test.each([
    ["PORT", "not-a-number"],
    ["PORT", "70000"],
    ["BOOKING_HOLD_MINUTES", "0"],
    ["BOOKING_HOLD_MINUTES", "1.5"],
    ["NODE_ENV", "staging"],
  ])("%s=%p is refused and named in the message", (name, value) => {
    expect(configError({ [name]: value }).message).toContain(name);
  });

  test("every named variable is passed through", () => {
    const c = loadConfig({
      DATABASE_URL: "postgres://u@h:5432/d",
      REDIS_URL: "redis://h:6379",
      PGLITE_DIR: "memory://",
      HOST: "0.0.0.0",
      AWS_REGION: "eu-west-1",
      AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:9324",
      SQS_BOOKING_REQUEST_QUEUE_URL: "http://q/req",
      SQS_BOOKING_CONFIRMATION_QUEUE_URL: "http://q/conf",
      SQS_BOOKING_EVENTS_QUEUE_URL: "http://q/events.fifo",
    });
    expect(c).toMatchObject({
      databaseUrl: "postgres://u@h:5432/d",
      redisUrl: "redis://h:6379",
      pgliteDir: "memory://",
      host: "0.0.0.0",
      aws: { region: "eu-west-1", sqsEndpoint: "http://127.0.0.1:9324" },
      queues: { bookingRequest: "http://q/req", bookingConfirmation: "http://q/conf", bookingEvents: "http://q/events.fifo" },
    });
  });

  test("production without DATABASE_URL and JWT_SECRET is refused, naming both", () => {
    const err = configError({ NODE_ENV: "production" });
    expect(err.message).toContain("DATABASE_URL");
    expect(err.message).toContain("JWT_SECRET");
  });

  test("production names just the missing one", () => {
    const noSecret = configError({ NODE_ENV: "production", DATABASE_URL: "postgres://u@h/d" });
    expect(noSecret.message).toContain("JWT_SECRET");
    expect(noSecret.message).not.toContain("DATABASE_URL");
    const noDb = configError({ NODE_ENV: "production", JWT_SECRET: SECRET });
    expect(noDb.message).toContain("DATABASE_URL");
    expect(noDb.message).not.toContain("JWT_SECRET");
  });

  test("production with both is accepted", () => {
    const c = loadConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://u@h/d", JWT_SECRET: SECRET });
    expect(c.isProduction).toBe(true);
    expect(c.jwtSecret).toBe(SECRET);
    expect(c.logLevel).toBe("info");
  });

  test("a JWT_SECRET shorter than 32 characters is refused in any environment", () => {
    expect(configError({ JWT_SECRET: "x".repeat(31) }).message).toContain("JWT_SECRET");
    expect(configError({ NODE_ENV: "production", DATABASE_URL: "postgres://u@h/d", JWT_SECRET: "short" }).message).toContain("JWT_SECRET");
    expect(loadConfig({ JWT_SECRET: SECRET }).jwtSecret).toBe(SECRET);
  });

  test("ADMIN_EMAIL without ADMIN_PASSWORD (and the reverse) is refused", () => {
    expect(configError({ ADMIN_EMAIL: "root@example.com" }).message).toMatch(/ADMIN_EMAIL and ADMIN_PASSWORD/);
    expect(configError({ ADMIN_PASSWORD: "secret-password" }).message).toMatch(/ADMIN_EMAIL and ADMIN_PASSWORD/);
  });

  test("ADMIN_EMAIL with ADMIN_PASSWORD gives the admin account", () => {
    expect(loadConfig({ ADMIN_EMAIL: "root@example.com", ADMIN_PASSWORD: "secret-password" }).admin).toEqual({
      email: "root@example.com",
      password: "secret-password",
      promoteExisting: false,
    });
    expect(loadConfig({ ADMIN_EMAIL: "root@example.com", ADMIN_PASSWORD: "secret-password", ADMIN_PROMOTE_EXISTING: "true" }).admin?.promoteExisting).toBe(true);
    expect(configError({ ADMIN_PROMOTE_EXISTING: "yes" }).message).toMatch(/ADMIN_PROMOTE_EXISTING/);
  });

  test("every cross-variable problem is listed at once", () => {
    const err = configError({ NODE_ENV: "production", ADMIN_EMAIL: "a@b.c", JWT_SECRET: "short" });
    for (const name of ["DATABASE_URL", "JWT_SECRET", "ADMIN_PASSWORD"]) expect(err.message).toContain(name);
  });

  // zod skips refinements once a field fails to parse; cross-variable rules must still be reported.
  test("a malformed variable does not hide the missing production variables", () => {
    const err = configError({ NODE_ENV: "production", ADMIN_EMAIL: "a@b.c", PORT: "x" });
    for (const name of ["DATABASE_URL", "JWT_SECRET", "ADMIN_PASSWORD", "PORT"]) expect(err.message).toContain(name);
  });

  test("SMTP_URL needs MAIL_FROM and an smtp(s) URL; with both, mail is configured", () => {
    expect(configError({ SMTP_URL: "smtp://127.0.0.1:1025" }).message).toMatch(/MAIL_FROM: is required when SMTP_URL is set/);
    expect(configError({ SMTP_URL: "http://mail.example.com", MAIL_FROM: "a@b.c" }).message).toMatch(/SMTP_URL: must be an smtp/);
    expect(loadConfig({}).mail).toBeUndefined();
    expect(loadConfig({ SMTP_URL: "smtps://u:p@mail.example.com", MAIL_FROM: "Slotwise <a@b.c>" }).mail).toEqual({
      smtpUrl: "smtps://u:p@mail.example.com",
      from: "Slotwise <a@b.c>",
    });
  });

  test("PUBLIC_URL must be an http(s) URL", () => {
    expect(configError({ PUBLIC_URL: "api.example.com" }).message).toMatch(/PUBLIC_URL: must be an http/);
    expect(loadConfig({ PUBLIC_URL: "https://api.example.com" }).publicUrl).toBe("https://api.example.com");
  });

  test("NODE_ENV=test is silent by default; LOG_LEVEL wins", () => {
    expect(loadConfig({ NODE_ENV: "test" }).logLevel).toBe("silent");
    expect(loadConfig({ NODE_ENV: "test", LOG_LEVEL: "debug" }).logLevel).toBe("debug");
  });
  test("CORS_ORIGINS: unset is same-origin only; a list is normalised as browsers send Origin; * stands alone", () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: " https://App.Example.com/ , http://localhost:5173,https://app.example.com:443" }).corsOrigins).toEqual([
      "https://app.example.com",
      "http://localhost:5173",
    ]);
    expect(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins).toBe("*");
  });

  test("CORS_ORIGINS refuses what is not an http(s) origin, naming the entry", () => {
    for (const bad of ["app.example.com", "https://app.example.com/path", "ftp://files.example.com", "https://user@app.example.com", "https://a.example.com?x=1", "*,https://a.example.com"]) {
      expect(configError({ CORS_ORIGINS: bad }).message).toMatch(/CORS_ORIGINS: /);
    }
    expect(configError({ CORS_ORIGINS: "https://ok.example.com,app.example.com" }).message).toContain('"app.example.com" is not an origin');
  });
});

describe("URL variables", () => {
  test.each([
    ["localhost:5432", 'scheme "localhost:"'],
    ["mysql://root@127.0.0.1:3306/app", 'scheme "mysql:"'],
    ["127.0.0.1", "is not a URL"],
    ["postgres://", "has no host"],
  ])("DATABASE_URL=%s is refused, naming the variable and the expected form", (value, reason) => {
    const err = configError({ DATABASE_URL: value });
    expect(err.message).toContain(`DATABASE_URL: `);
    expect(err.message).toContain(reason);
    expect(err.message).toContain("postgres://user[:password]@host[:port]/database");
  });

  test("postgres://, postgresql:// and a socket directory in ?host= are accepted", () => {
    for (const url of ["postgres://u@h:5432/d", "postgresql://u:p@h/d", "postgres:///d?host=/var/run/postgresql"]) {
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    }
  });

  test("the message never echoes the value (it may hold a password)", () => {
    expect(configError({ DATABASE_URL: "mysql://root:s3cret@h/d" }).message).not.toContain("s3cret");
  });

  test("REDIS_URL, AWS_ENDPOINT_URL_SQS and the queue URLs are checked the same way", () => {
    const err = configError({
      REDIS_URL: "localhost:6379",
      AWS_ENDPOINT_URL_SQS: "127.0.0.1:9324",
      SQS_BOOKING_REQUEST_QUEUE_URL: "booking-request-queue",
    });
    for (const name of ["REDIS_URL", "AWS_ENDPOINT_URL_SQS", "SQS_BOOKING_REQUEST_QUEUE_URL"]) expect(err.message).toContain(`${name}: `);
    expect(loadConfig({ REDIS_URL: "rediss://h:6380", AWS_ENDPOINT_URL_SQS: "https://sqs.eu-west-1.amazonaws.com" }).redisUrl).toBe("rediss://h:6380");
  });
});
