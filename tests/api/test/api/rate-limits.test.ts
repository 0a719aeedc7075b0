import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type ApiResponse } from "../../lib/client.js";
import { expectError, newCredentials, randomLoopbackAddress, register } from "../../lib/fixtures.js";
import { kCleanExit, type RunningServer, startServer } from "../../lib/server.js";

function expectLimited(res: ApiResponse) {
  expectError(res, 429, "rate_limited");
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
}

describe("login limit per account (RATE_LIMIT_AUTH_ACCOUNT=5/1m)", () => {
  it("answers the sixth failed login on one account with 429, whichever name it is given by", async () => {
    const user = await register();
    // Username, upper-cased username and email all name the same account.
    const names = [user.username, user.username.toUpperCase(), user.email];
    const results: ApiResponse[] = [];
    for (let i = 0; i < 6; i++) {
      results.push(
        await api("POST", "/api/v1/auth/login", { json: { login: names[i % names.length], password: `wrong-${i}-pass` } }),
      );
    }
    const summary = results.map((r) => r.status).join(", ");
    const firstLimited = results.findIndex((r) => r.status === 429);
    expect(firstLimited, summary).toBeGreaterThanOrEqual(0);
    for (const res of results.slice(0, firstLimited)) expectError(res, 401, "invalid_credentials");
    for (const res of results.slice(firstLimited)) expectLimited(res);

    // The limit is checked before the password: even the right one is refused now.
    expectLimited(await api("POST", "/api/v1/auth/login", { json: { login: user.username, password: user.password } }));
  });

  it("leaves other accounts alone", async () => {
    const victim = await register();
    for (let i = 0; i < 6; i++) {
      await api("POST", "/api/v1/auth/login", { json: { login: victim.username, password: `wrong-${i}-pass` } });
    }
    const other = await register();
    const res = await api("POST", "/api/v1/auth/login", { json: { login: other.username, password: other.password } });
    expect(res.status).toBe(200);
  });
});

describe("auth limit per client IP (a second server with RATE_LIMIT_AUTH_IP=3/1m)", () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ env: { RATE_LIMIT_AUTH_IP: "3/1m" } });
  });

  afterAll(async () => {
    const exit = await server?.stop();
    expect(exit, server?.output()).toBe(kCleanExit);
  });

  // Each test connects from its own loopback address, so its buckets are fresh on every run.
  it("answers the fourth register from one IP with 429", async () => {
    const from = { baseUrl: server.baseUrl, localAddress: randomLoopbackAddress() };
    const results: ApiResponse[] = [];
    for (let i = 0; i < 4; i++) {
      results.push(await api("POST", "/api/v1/auth/register", { ...from, json: newCredentials("ip") }));
    }
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 429]);
    expectLimited(results[3]!);
    // Another address is not affected.
    const elsewhere = await api("POST", "/api/v1/auth/register", {
      baseUrl: server.baseUrl,
      localAddress: randomLoopbackAddress(),
      json: newCredentials("ip"),
    });
    expect(elsewhere.status).toBe(201);
  });

  it("answers the fourth login from one IP with 429", async () => {
    const users = await Promise.all([0, 1, 2, 3].map(() => register(newCredentials("ipl"))));
    const from = { baseUrl: server.baseUrl, localAddress: randomLoopbackAddress() };
    const results: ApiResponse[] = [];
    for (const user of users) {
      results.push(await api("POST", "/api/v1/auth/login", { ...from, json: { login: user.username, password: user.password } }));
    }
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expectLimited(results[3]!);
  });
});
