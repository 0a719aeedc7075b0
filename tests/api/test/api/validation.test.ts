import { describe, expect, it } from "vitest";
import { api } from "../../lib/client.js";
import { expectError, fieldMessage, newCredentials, register, suffix } from "../../lib/fixtures.js";

const registerPath = "/api/v1/auth/register";

// A display name is given so that a bad username cannot also fail as the default display name.
function registerWith(fields: Record<string, unknown>) {
  return api("POST", registerPath, { json: { ...newCredentials("v"), display_name: "Val Idation", ...fields } });
}

async function expectRefused(fields: Record<string, unknown>, field: string) {
  expectError(await registerWith(fields), 422, "validation_failed", [field]);
}

describe("register validation", () => {
  it.each([
    ["too short", "ab"],
    ["too long", `a${"b".repeat(30)}`],
    ["with a space", "bad name"],
    ["with a symbol", "bad!name"],
    ["with a non-ASCII letter", "jürgen_x"],
    ["empty", ""],
  ])("refuses a username %s", async (_, username) => {
    await expectRefused({ username }, "username");
  });

  it("accepts usernames of 3 and 30 characters of [a-z0-9_.-], lower-casing upper-case input", async () => {
    const short = await registerWith({ username: suffix(2).slice(0, 3) });
    // Three random hex characters may already be taken by an earlier run: 409 says it is valid too.
    expect([201, 409]).toContain(short.status);
    const long = `A.b-C_${suffix(12)}`;
    expect(long).toHaveLength(30);
    const res = await registerWith({ username: long });
    expect(res.status).toBe(201);
    expect(res.body.user.username).toBe(long.toLowerCase());
  });

  it.each([
    ["without @", "not-an-email"],
    ["without a local part", "@example.com"],
    ["with a space inside", "a b@example.com"],
    ["longer than 254 characters", `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.com`],
  ])("refuses an email %s", async (_, email) => {
    await expectRefused({ email }, "email");
  });

  it.each([
    ["of 7 characters", () => "abcd-e7"],
    ["of 129 characters", () => `p${"q".repeat(128)}`],
    ["that is common: password123", () => "password123"],
    ["that is common: qwerty123", () => "qwerty123"],
    ["that is common: 12345678", () => "12345678"],
  ])("refuses a password %s", async (_, password) => {
    await expectRefused({ password: password() }, "password");
  });

  it("refuses a password equal to the username or the email", async () => {
    const { username, email } = newCredentials("same");
    await expectRefused({ username, email, password: username }, "password");
    await expectRefused({ username, email, password: email }, "password");
    await expectRefused({ username, email, password: email.toUpperCase() }, "password");
  });

  it("accepts passwords of 8 and 128 characters", async () => {
    expect((await registerWith({ password: `8-${suffix(3)}` })).status).toBe(201);
    expect((await registerWith({ password: `${suffix(8)}${"z".repeat(112)}` })).status).toBe(201);
  });

  it("refuses a display name that is blank or over 80 characters, and accepts 80", async () => {
    await expectRefused({ display_name: "   " }, "display_name");
    await expectRefused({ display_name: "" }, "display_name");
    await expectRefused({ display_name: "d".repeat(81) }, "display_name");
    const res = await registerWith({ display_name: `  ${"d".repeat(80)}  ` });
    expect(res.status).toBe(201);
    expect(res.body.user.display_name).toBe("d".repeat(80));
  });

  it("names every invalid field at once", async () => {
    const res = await api("POST", registerPath, { json: { username: "x", email: "nope", password: "short" } });
    expectError(res, 422, "validation_failed", ["email", "password", "username"]);
  });

  it("refuses missing required fields", async () => {
    expectError(await api("POST", registerPath, { json: {} }), 422, "validation_failed", ["email", "password", "username"]);
    const { username, password } = newCredentials();
    expectError(await api("POST", registerPath, { json: { username, password } }), 422, "validation_failed", ["email"]);
  });

  it("refuses wrong JSON types", async () => {
    await expectRefused({ username: 5 }, "username");
    await expectRefused({ email: ["a@example.com"] }, "email");
    await expectRefused({ password: null }, "password");
    await expectRefused({ display_name: { name: "x" } }, "display_name");
  });

  it("refuses unknown properties", async () => {
    await expectRefused({ is_admin: true }, "is_admin");
  });

  it("refuses a username taken in another case", async () => {
    const first = await register();
    const res = await registerWith({ username: first.username.toUpperCase() });
    const body = expectError(res, 409, "conflict", ["username"]);
    expect(fieldMessage(body, "username")).toBe("is already taken");
  });

  it("refuses an email taken in another case", async () => {
    const first = await register();
    const res = await registerWith({ email: first.email.toUpperCase() });
    const body = expectError(res, 409, "conflict", ["email"]);
    expect(fieldMessage(body, "email")).toBe("is already taken");
  });
});

describe("login validation", () => {
  it("refuses missing fields and wrong types", async () => {
    expectError(await api("POST", "/api/v1/auth/login", { json: {} }), 422, "validation_failed", ["login", "password"]);
    expectError(await api("POST", "/api/v1/auth/login", { json: { login: "someone" } }), 422, "validation_failed", [
      "password",
    ]);
    expectError(
      await api("POST", "/api/v1/auth/login", { json: { login: 12, password: "whatever1" } }),
      422,
      "validation_failed",
      ["login"],
    );
  });
});

describe("request bodies", () => {
  it("refuses malformed JSON with 400 invalid_json", async () => {
    expectError(await api("POST", registerPath, { body: '{"username": "abc",' }), 400, "invalid_json");
    expectError(await api("POST", registerPath, { body: "" }), 400, ["invalid_json", "bad_request"]);
  });

  it("refuses a JSON array or scalar as the body with the standard error body", async () => {
    for (const body of ["[]", `[${JSON.stringify(newCredentials())}]`, "42", '"text"', "null"]) {
      const res = await api("POST", registerPath, { body });
      expect([400, 422], `${body} → ${res.text}`).toContain(res.status);
      expectError(res, res.status, res.status === 400 ? ["invalid_json", "bad_request"] : "validation_failed");
    }
  });

  it("refuses a body over 1 MiB with 413", async () => {
    const padding = "x".repeat(1.5 * 1024 * 1024);
    const res = await api("POST", registerPath, { json: { ...newCredentials(), display_name: padding } });
    expectError(res, 413, "payload_too_large");
  });

  it("refuses a non-JSON content type with 415", async () => {
    const json = JSON.stringify(newCredentials());
    expectError(await api("POST", registerPath, { body: json, contentType: "text/plain" }), 415, "unsupported_media_type");
    expectError(
      await api("POST", registerPath, { body: json, contentType: "application/x-www-form-urlencoded" }),
      415,
      "unsupported_media_type",
    );
    // A charset parameter is fine.
    expect((await api("POST", registerPath, { body: json, contentType: "application/json; charset=utf-8" })).status).toBe(201);
  });
});
