import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../lib/client.js";
import { expectError, newCredentials } from "../../lib/fixtures.js";
import { freePort, kCleanExit, runCommand, serviceEnv, startServer, type RunningServer } from "../../lib/server.js";

// A loopback port with nothing listening: a dependency that is down.
async function deadUrl(scheme: "redis" | "postgresql"): Promise<string> {
  const port = await freePort();
  return scheme === "redis" ? `redis://127.0.0.1:${port}/1` : `postgresql://postgres@127.0.0.1:${port}/marketplace_test`;
}

describe("with Redis down", () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ env: { REDIS_URL: await deadUrl("redis") }, readyStatus: 503 });
  });

  afterAll(async () => {
    expect(await server?.stop()).toBe(kCleanExit);
  });

  it("readyz is 503 and names Redis", async () => {
    const res = await api("GET", "/readyz", { baseUrl: server.baseUrl });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: "unavailable", checks: { postgres: "ok", redis: "down" } });
  });

  it("register and login still work: the rate limits admit while Redis is away", async () => {
    const on = { baseUrl: server.baseUrl };
    const credentials = newCredentials("noredis");
    const created = await api("POST", "/api/v1/auth/register", { ...on, json: credentials });
    expect(created.status).toBe(201);
    const login = await api("POST", "/api/v1/auth/login", {
      ...on,
      json: { login: credentials.username, password: credentials.password },
    });
    expect(login.status).toBe(200);
  });
});

describe("with PostgreSQL down", () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({
      env: { DATABASE_URL: await deadUrl("postgresql"), REDIS_URL: serviceEnv().REDIS_URL },
      readyStatus: 503,
    });
  });

  afterAll(async () => {
    expect(await server?.stop()).toBe(kCleanExit);
  });

  it("healthz is 200 and readyz is 503 naming PostgreSQL", async () => {
    expect((await api("GET", "/healthz", { baseUrl: server.baseUrl })).status).toBe(200);
    const res = await api("GET", "/readyz", { baseUrl: server.baseUrl });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: "unavailable", checks: { postgres: "down", redis: "ok" } });
  });

  it("answers API calls with 503 unavailable and Retry-After, never 500", async () => {
    const on = { baseUrl: server.baseUrl };
    const profile = await api("GET", "/api/v1/users/somebody", on);
    expectError(profile, 503, "unavailable");
    expect(Number(profile.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const login = await api("POST", "/api/v1/auth/login", { ...on, json: { login: "somebody", password: "a long pass phrase" } });
    expectError(login, 503, "unavailable");
    const credentials = newCredentials("nopg");
    const register = await api("POST", "/api/v1/auth/register", { ...on, json: credentials });
    expectError(register, 503, "unavailable");
    // The message says nothing about the database.
    expect(JSON.stringify(profile.body)).not.toMatch(/postgres|libpq|connection|127\.0\.0\.1/i);
  });
});

describe("a second server on a port already served", () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(async () => {
    expect(await server?.stop()).toBe(kCleanExit);
  });

  it("refuses to start rather than share the port", async () => {
    await expect(runCommand(["serve"], server.env, 10_000)).rejects.toThrow(/Address already in use/);
    expect((await api("GET", "/healthz", { baseUrl: server.baseUrl })).status).toBe(200);
  });
});
