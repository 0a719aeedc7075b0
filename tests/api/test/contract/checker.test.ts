// The checker must catch what it claims to catch, or every API test is weaker than it reads.
import { describe, expect, it } from "vitest";
import { checkResponse, ContractViolation, findPathTemplate, spec } from "../../lib/contract.js";

const base = "http://127.0.0.1:1";

function response(method: string, path: string, status: number, body: unknown, headers: Record<string, string> = {}) {
  const h = new Headers({ "x-request-id": "req-1", ...headers });
  let text = "";
  if (body !== undefined) {
    text = typeof body === "string" ? body : JSON.stringify(body);
    if (!h.has("content-type")) h.set("content-type", "application/json");
  }
  return { method, url: base + path, status, headers: h, text };
}

const me = {
  id: 7,
  username: "ada_lovelace",
  email: "ada@example.com",
  display_name: "Ada",
  created_at: "2026-01-02T03:04:05Z",
  updated_at: "2026-01-02T03:04:05.123456Z",
};
const tokens = {
  access_token: "aaa.bbb.ccc",
  token_type: "Bearer",
  expires_in: 600,
  refresh_token: "opaque",
  refresh_expires_at: "2026-02-01T00:00:00Z",
};

describe("contract checker", () => {
  it("accepts a valid AuthResponse", () => {
    expect(checkResponse(response("POST", "/api/v1/auth/register", 201, { user: me, tokens }))).toEqual({ user: me, tokens });
  });

  it("rejects a response without X-Request-Id", () => {
    const res = response("GET", "/healthz", 200, { status: "ok" });
    res.headers.delete("x-request-id");
    expect(() => checkResponse(res)).toThrow(/X-Request-Id/);
  });

  it("rejects an extra property in a response object", () => {
    expect(() => checkResponse(response("GET", "/api/v1/users/ada", 200, { ...me }))).toThrow(ContractViolation);
  });

  it("rejects a missing required property", () => {
    const { email: _email, ...noEmail } = me;
    expect(() => checkResponse(response("GET", "/api/v1/me", 200, noEmail))).toThrow(/email/);
  });

  it("rejects a malformed date-time and an upper-case username", () => {
    expect(() => checkResponse(response("GET", "/api/v1/me", 200, { ...me, created_at: "yesterday" }))).toThrow(/date-time/);
    expect(() => checkResponse(response("GET", "/api/v1/me", 200, { ...me, username: "Ada" }))).toThrow(/pattern/);
  });

  it("rejects a status the operation does not declare", () => {
    expect(() => checkResponse(response("GET", "/api/v1/me", 403, { error: { code: "forbidden", message: "no" } }))).toThrow(
      /not declared/,
    );
  });

  it("rejects a content type other than the declared one", () => {
    const res = response("GET", "/healthz", 200, { status: "ok" }, { "content-type": "text/plain" });
    expect(() => checkResponse(res)).toThrow(/content type/);
  });

  it("rejects a body on a response declared without one", () => {
    expect(() => checkResponse(response("POST", "/api/v1/auth/logout", 204, { ok: true }))).toThrow(/no body/);
  });

  it("rejects an error code that does not belong to the status", () => {
    const body = { error: { code: "not_found", message: "x" } };
    expect(() =>
      checkResponse(response("GET", "/api/v1/me", 401, body, { "www-authenticate": "Bearer" })),
    ).toThrow(ContractViolation);
  });

  it("rejects an error body with extra members", () => {
    const body = { error: { code: "not_found", message: "x", detail: "y" } };
    expect(() => checkResponse(response("GET", "/api/v1/users/x", 404, body))).toThrow(ContractViolation);
    expect(() => checkResponse(response("GET", "/api/v1/users/x", 404, { ...body, error: { code: "not_found", message: "x" }, extra: 1 }))).toThrow(
      ContractViolation,
    );
  });

  it("requires WWW-Authenticate on a bearer 401, Retry-After on a 429 and Allow on a 405", () => {
    const unauth = { error: { code: "unauthenticated", message: "x" } };
    expect(() => checkResponse(response("GET", "/api/v1/me", 401, unauth))).toThrow(/WWW-Authenticate/);
    checkResponse(response("GET", "/api/v1/me", 401, unauth, { "www-authenticate": "Bearer" }));

    const limited = { error: { code: "rate_limited", message: "x" } };
    expect(() => checkResponse(response("POST", "/api/v1/auth/login", 429, limited))).toThrow(/Retry-After/);
    expect(() => checkResponse(response("POST", "/api/v1/auth/login", 429, limited, { "retry-after": "soon" }))).toThrow(/Retry-After/);
    checkResponse(response("POST", "/api/v1/auth/login", 429, limited, { "retry-after": "30" }));

    const wrongMethod = { error: { code: "method_not_allowed", message: "x" } };
    expect(() => checkResponse(response("DELETE", "/healthz", 405, wrongMethod))).toThrow(/Allow/);
    checkResponse(response("DELETE", "/healthz", 405, wrongMethod, { allow: "GET, HEAD" }));
  });

  it("treats an unrouted path as the router's 404 and nothing else", () => {
    const notFound = { error: { code: "not_found", message: "x" } };
    checkResponse(response("GET", "/api/v1/nope", 404, notFound));
    expect(() => checkResponse(response("GET", "/api/v1/nope", 200, { status: "ok" }))).toThrow(/expected 404/);
  });

  it("requires fields on validation errors and allows them to be absent elsewhere", () => {
    const noFields = { error: { code: "validation_failed", message: "x" } };
    expect(() => checkResponse(response("POST", "/api/v1/auth/register", 422, noFields))).toThrow(ContractViolation);
    checkResponse(
      response("POST", "/api/v1/auth/register", 422, { error: { ...noFields.error, fields: [{ field: "email", message: "is invalid" }] } }),
    );
  });

  it("matches literal path segments before parameters", () => {
    expect(findPathTemplate("/api/v1/users/ada")).toBe("/api/v1/users/{username}");
    expect(findPathTemplate("/api/v1/me/password")).toBe("/api/v1/me/password");
    expect(findPathTemplate("/api/v1/users/")).toBeUndefined();
  });

  it("has an operationId on every operation", () => {
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect(operation.operationId, `${method} ${path}`).toBeTruthy();
      }
    }
  });
});
