import { describe, expect, it } from "vitest";
import { api } from "../../lib/client.js";
import { getMe, newCredentials, refresh, register } from "../../lib/fixtures.js";
import { kCleanExit, startServer } from "../../lib/server.js";

describe("shutdown", () => {
  // A crash while draining loses in-flight work and hides behind a passing suite, so it is
  // provoked on purpose: many connections, some of them left idle in keep-alive, then SIGTERM.
  it("drains and exits 0 on SIGTERM after concurrent traffic", async () => {
    for (let round = 0; round < 3; round++) {
      const server = await startServer();
      try {
        const on = { baseUrl: server.baseUrl };
        const user = await register(newCredentials("drain"), on);
        const token = user.auth.tokens.refresh_token;
        const raced = await Promise.all([refresh(token, on), refresh(token, on), refresh(token, on)]);
        expect(raced.filter((r) => r.status === 200)).toHaveLength(1);
        const burst = await Promise.all([
          ...Array.from({ length: 100 }, () => api("GET", "/healthz", on)),
          ...Array.from({ length: 50 }, () => api("GET", "/readyz", on)),
          ...Array.from({ length: 50 }, () => getMe(user.auth.tokens.access_token, on)),
          ...Array.from({ length: 50 }, () => api("GET", "/api/v1/no-such-route", on)),
        ]);
        expect(burst.every((r) => r.status < 500)).toBe(true);
      } finally {
        const exit = await server.stop();
        expect(exit, `marketplace serve did not drain cleanly (round ${round + 1}):\n${server.output()}`).toBe(kCleanExit);
      }
    }
  });

  // A dependency that vanishes while the server writes to it (Redis killed mid-command; hiredis
  // writes with write(2)) raises SIGPIPE, whose default action ends the process: the server must
  // ignore it and let the write fail with EPIPE instead.
  it("survives SIGPIPE and still serves and drains", async () => {
    const server = await startServer();
    try {
      process.kill(server.pid, "SIGPIPE");
      const health = await api("GET", "/healthz", { baseUrl: server.baseUrl });
      expect(health.status).toBe(200);
      expect(server.exited(), server.output()).toBeUndefined();
    } finally {
      const exit = await server.stop();
      expect(exit, server.output()).toBe(kCleanExit);
    }
  });
});
