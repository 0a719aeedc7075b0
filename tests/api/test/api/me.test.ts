import { describe, expect, it } from "vitest";
import { api } from "../../lib/client.js";
import { expectError, fieldMessage, getMe, login, refresh, register, suffix } from "../../lib/fixtures.js";

describe("the caller's account", () => {
  it("PATCH /me changes the display name (trimmed) and the email (normalised)", async () => {
    const user = await register();
    const token = user.auth.tokens.access_token;
    const before = user.auth.user;

    const named = await api("PATCH", "/api/v1/me", { token, json: { display_name: "  Grace Hopper  " } });
    expect(named.status).toBe(200);
    expect(named.body.display_name).toBe("Grace Hopper");
    expect(named.body.email).toBe(before.email);
    expect(named.body.username).toBe(before.username);
    expect(named.body.created_at).toBe(before.created_at);
    expect(Date.parse(named.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(before.updated_at));

    const newEmail = `Moved.${suffix()}@Example.org`;
    const moved = await api("PATCH", "/api/v1/me", { token, json: { email: ` ${newEmail} ` } });
    expect(moved.status).toBe(200);
    expect(moved.body.email).toBe(newEmail.toLowerCase());
    expect(moved.body.display_name).toBe("Grace Hopper");

    const fetched = await getMe(token);
    expect(fetched.body).toEqual(moved.body);
    // The new email logs in; the old one no longer names this account.
    expect((await login(newEmail, user.password)).user.id).toBe(before.id);
    expectError(
      await api("POST", "/api/v1/auth/login", { json: { login: user.email, password: user.password } }),
      401,
      "invalid_credentials",
    );
  });

  it("PATCH /me with an empty object changes nothing", async () => {
    const user = await register();
    const res = await api("PATCH", "/api/v1/me", { token: user.auth.tokens.access_token, json: {} });
    expect(res.status).toBe(200);
    expect({ ...res.body, updated_at: undefined }).toEqual({ ...user.auth.user, updated_at: undefined });
  });

  it("PATCH /me refuses an email another account has, in any case", async () => {
    const taken = await register();
    const user = await register();
    const res = await api("PATCH", "/api/v1/me", {
      token: user.auth.tokens.access_token,
      json: { email: taken.email.toUpperCase() },
    });
    const body = expectError(res, 409, "conflict", ["email"]);
    expect(fieldMessage(body, "email")).toBe("is already taken");
    expect((await getMe(user.auth.tokens.access_token)).body.email).toBe(user.email);
  });

  it("PATCH /me refuses username and other properties, and bad values", async () => {
    const user = await register();
    const token = user.auth.tokens.access_token;
    expectError(await api("PATCH", "/api/v1/me", { token, json: { username: `x${suffix()}` } }), 422, "validation_failed", [
      "username",
    ]);
    expectError(await api("PATCH", "/api/v1/me", { token, json: { id: 1 } }), 422, "validation_failed", ["id"]);
    expectError(await api("PATCH", "/api/v1/me", { token, json: { display_name: "   " } }), 422, "validation_failed", [
      "display_name",
    ]);
    expectError(await api("PATCH", "/api/v1/me", { token, json: { display_name: "x".repeat(81) } }), 422, "validation_failed", [
      "display_name",
    ]);
    expectError(await api("PATCH", "/api/v1/me", { token, json: { email: "nope" } }), 422, "validation_failed", ["email"]);
    expectError(await api("PATCH", "/api/v1/me", { token, json: { display_name: 5 } }), 422, "validation_failed", [
      "display_name",
    ]);
    expect((await getMe(token)).body).toEqual(user.auth.user);
  });

  // Login attempts and password-change attempts share the account's bucket (5/1m in this suite):
  // this test makes exactly five.
  it("changing the password keeps the caller's session and ends the others", async () => {
    const user = await register();
    const current = user.auth.tokens;
    const other = await login(user.username, user.password);
    const newPassword = `new-${suffix(8)}`;

    const wrong = await api("POST", "/api/v1/me/password", {
      token: current.access_token,
      json: { current_password: `${user.password}x`, new_password: newPassword },
    });
    const body = expectError(wrong, 422, "validation_failed", ["current_password"]);
    expect(fieldMessage(body, "current_password")).toBe("is incorrect");

    const common = await api("POST", "/api/v1/me/password", {
      token: current.access_token,
      json: { current_password: user.password, new_password: "password123" },
    });
    expectError(common, 422, "validation_failed", ["new_password"]);
    // Refused attempts revoked nothing.
    expect((await getMe(other.tokens.access_token)).status).toBe(200);

    const changed = await api("POST", "/api/v1/me/password", {
      token: current.access_token,
      json: { current_password: user.password, new_password: newPassword },
    });
    expect(changed.status).toBe(204);

    expectError(await getMe(other.tokens.access_token), 401, "invalid_token");
    expectError(await refresh(other.tokens.refresh_token), 401, "invalid_token");
    expect((await getMe(current.access_token)).status).toBe(200);
    const rotated = await refresh(current.refresh_token);
    expect(rotated.status).toBe(200);
    expect((await getMe(rotated.body.tokens.access_token)).status).toBe(200);

    expectError(
      await api("POST", "/api/v1/auth/login", { json: { login: user.username, password: user.password } }),
      401,
      "invalid_credentials",
    );
    expect((await login(user.username, newPassword)).user.id).toBe(user.auth.user.id);
  });

  it("DELETE /me disables the account at once", async () => {
    const user = await register();
    const other = await login(user.email, user.password);
    expect((await api("GET", `/api/v1/users/${user.username}`)).status).toBe(200);

    const res = await api("DELETE", "/api/v1/me", { token: user.auth.tokens.access_token });
    expect(res.status).toBe(204);

    expectError(await getMe(user.auth.tokens.access_token), 401, "invalid_token");
    expectError(await getMe(other.tokens.access_token), 401, "invalid_token");
    expectError(await refresh(other.tokens.refresh_token), 401, "invalid_token");
    expectError(
      await api("POST", "/api/v1/auth/login", { json: { login: user.username, password: user.password } }),
      401,
      "invalid_credentials",
    );
    expectError(await api("GET", `/api/v1/users/${user.username}`), 404, "not_found");
  });
});

describe("public profiles", () => {
  it("show id, username, display name and creation time, never the email", async () => {
    const user = await register({ display_name: "Public Person" });
    const res = await api("GET", `/api/v1/users/${user.username}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: user.auth.user.id,
      username: user.username,
      display_name: "Public Person",
      created_at: user.auth.user.created_at,
    });
    expect(res.text).not.toContain(user.email);
  });

  it("are found case-insensitively", async () => {
    const user = await register();
    const res = await api("GET", `/api/v1/users/${user.username.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.username).toBe(user.username);
  });

  it("answer 404 for an unknown user", async () => {
    expectError(await api("GET", `/api/v1/users/nobody_${suffix()}`), 404, "not_found");
  });
});
