import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { api } from "../../lib/client.js";
import { specPath } from "../../lib/contract.js";
import { expectError } from "../../lib/fixtures.js";

describe("operations endpoints", () => {
  it("healthz answers ok", async () => {
    const res = await api("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  it("readyz reports PostgreSQL and Redis up", async () => {
    const res = await api("GET", "/readyz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ready", checks: { postgres: "ok", redis: "ok" } });
  });

  it("metrics are Prometheus text", async () => {
    await api("GET", "/healthz");
    const res = await api<string>("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/m);
    for (const line of res.body.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+( \d+)?$/);
    }
  });

  it("serves the same OpenAPI document as api/openapi.yaml", async () => {
    const res = await api<string>("GET", "/api/openapi.yaml");
    expect(res.status).toBe(200);
    expect(parse(res.body)).toEqual(parse(readFileSync(specPath, "utf8")));
  });

  it("answers HEAD like GET, without the body", async () => {
    const res = await api("HEAD", "/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.text).toBe("");
  });

  it("gives every response its own X-Request-Id", async () => {
    const [a, b] = await Promise.all([api("GET", "/healthz"), api("GET", "/api/v1/nope")]);
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });
});

describe("routing", () => {
  it("answers an unknown route with 404 not_found", async () => {
    expectError(await api("GET", "/api/v1/no-such-route"), 404, "not_found");
    expectError(await api("POST", "/api/v1/no-such-route", { json: {} }), 404, "not_found");
  });

  it("treats a trailing slash as another path", async () => {
    expectError(await api("GET", "/api/v1/me/"), 404, "not_found");
  });

  it("answers a wrong method with 405 and Allow", async () => {
    const login = await api("GET", "/api/v1/auth/login");
    expectError(login, 405, "method_not_allowed");
    expect(login.headers.get("allow")?.split(/\s*,\s*/)).toContain("POST");

    const health = await api("DELETE", "/healthz");
    expectError(health, 405, "method_not_allowed");
    expect(health.headers.get("allow")?.split(/\s*,\s*/)).toContain("GET");

    const me = await api("PUT", "/api/v1/me", { json: {} });
    expectError(me, 405, "method_not_allowed");
    expect(me.headers.get("allow")?.split(/\s*,\s*/)).toEqual(expect.arrayContaining(["GET", "PATCH", "DELETE"]));
  });
});
