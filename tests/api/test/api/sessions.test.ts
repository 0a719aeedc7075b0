import { describe, expect, it } from "vitest";
import { api } from "../../lib/client.js";
import { expectError, getMe, login, newCredentials, refresh, register, suffix } from "../../lib/fixtures.js";

describe("register, login and sessions", () => {
  it("runs the full flow: register, login, me, refresh, and a reused refresh token revokes its session", async () => {
    const tag = suffix();
    const username = `Flow_${tag}`;
    const email = `  Flow.${tag}@Example.COM `;
    const password = `pw-${suffix(8)}`;

    const created = await api("POST", "/api/v1/auth/register", { json: { username, email, password } });
    expect(created.status).toBe(201);
    const me = created.body.user;
    expect(me.username).toBe(username.toLowerCase());
    expect(me.email).toBe(email.trim().toLowerCase());
    expect(me.display_name).toBe(username.toLowerCase());
    expect(created.body.tokens.token_type).toBe("Bearer");
    expect(created.body.tokens.expires_in).toBe(600);
    expect(Date.parse(created.body.tokens.refresh_expires_at)).toBeGreaterThan(Date.now());

    // Login by username and by email, both case-insensitively.
    const byName = await login(username.toUpperCase(), password);
    expect(byName.user).toEqual(me);
    const session = await login(email.trim().toUpperCase(), password);
    expect(session.user.id).toBe(me.id);

    const fetched = await getMe(session.tokens.access_token);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(me);

    const first = session.tokens;
    const rotated = await refresh(first.refresh_token);
    expect(rotated.status).toBe(200);
    const second = rotated.body.tokens;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(rotated.body.user).toEqual(me);
    expect((await getMe(second.access_token)).status).toBe(200);

    // The first refresh token was used: presenting it again is theft, and the session dies.
    expectError(await refresh(first.refresh_token), 401, "token_reused");
    expectError(await refresh(second.refresh_token), 401, "invalid_token");
    const revokedAccess = await getMe(second.access_token);
    expectError(revokedAccess, 401, "invalid_token");
    expect(revokedAccess.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expectError(await getMe(first.access_token), 401, "invalid_token");

    // Other sessions of the same user are untouched.
    expect((await getMe(byName.tokens.access_token)).status).toBe(200);
    expect((await refresh(byName.tokens.refresh_token)).status).toBe(200);
  });

  it("login refuses a wrong password, an unknown user and the same way", async () => {
    const user = await register();
    const wrong = expectError(
      await api("POST", "/api/v1/auth/login", { json: { login: user.username, password: `${user.password}x` } }),
      401,
      "invalid_credentials",
    );
    const unknown = expectError(
      await api("POST", "/api/v1/auth/login", { json: { login: `nobody_${suffix()}`, password: user.password } }),
      401,
      "invalid_credentials",
    );
    expect(unknown.error.message).toBe(wrong.error.message);
  });

  it("logout revokes that session only, and answers 204 for an unknown token", async () => {
    const user = await register();
    const other = await login(user.username, user.password);

    const out = await api("POST", "/api/v1/auth/logout", { json: { refresh_token: user.auth.tokens.refresh_token } });
    expect(out.status).toBe(204);
    expectError(await refresh(user.auth.tokens.refresh_token), 401, "invalid_token");
    expectError(await getMe(user.auth.tokens.access_token), 401, "invalid_token");

    expect((await getMe(other.tokens.access_token)).status).toBe(200);

    const again = await api("POST", "/api/v1/auth/logout", { json: { refresh_token: user.auth.tokens.refresh_token } });
    expect(again.status).toBe(204);
    const unknown = await api("POST", "/api/v1/auth/logout", { json: { refresh_token: `nope-${suffix(16)}` } });
    expect(unknown.status).toBe(204);
  });

  it("logout refuses a malformed body", async () => {
    expectError(await api("POST", "/api/v1/auth/logout", { json: {} }), 422, "validation_failed", ["refresh_token"]);
    expectError(await api("POST", "/api/v1/auth/logout", { body: "{" }), 400, "invalid_json");
  });

  it("logout-all ends every session of the user", async () => {
    const user = await register();
    const second = await login(user.username, user.password);
    const bystander = await register();

    const res = await api("POST", "/api/v1/auth/logout-all", { token: second.tokens.access_token });
    expect(res.status).toBe(204);

    for (const tokens of [user.auth.tokens, second.tokens]) {
      expectError(await getMe(tokens.access_token), 401, "invalid_token");
      expectError(await refresh(tokens.refresh_token), 401, "invalid_token");
    }
    expect((await getMe(bystander.auth.tokens.access_token)).status).toBe(200);
    // Logging in again starts a fresh session.
    const fresh = await login(user.email, user.password);
    expect((await getMe(fresh.tokens.access_token)).status).toBe(200);
  });

  // The server remembers a live session for a moment (SESSION_CACHE_TTL) so that a burst of
  // requests costs one lookup; an access token used just before its session ends must still be
  // refused at once.
  it("refuses an access token used a moment ago as soon as its session is logged out", async () => {
    const user = await register();
    const second = await login(user.username, user.password);
    const third = await login(user.username, user.password);
    for (const tokens of [user.auth.tokens, second.tokens, third.tokens]) {
      expect((await getMe(tokens.access_token)).status).toBe(200);
    }

    const out = await api("POST", "/api/v1/auth/logout", { json: { refresh_token: user.auth.tokens.refresh_token } });
    expect(out.status).toBe(204);
    expectError(await getMe(user.auth.tokens.access_token), 401, "invalid_token");
    expect((await getMe(second.tokens.access_token)).status).toBe(200);

    const all = await api("POST", "/api/v1/auth/logout-all", { token: third.tokens.access_token });
    expect(all.status).toBe(204);
    expectError(await getMe(second.tokens.access_token), 401, "invalid_token");
    expectError(await getMe(third.tokens.access_token), 401, "invalid_token");
  });

  it("logout-all needs a bearer token", async () => {
    const res = await api("POST", "/api/v1/auth/logout-all");
    expectError(res, 401, "unauthenticated");
  });

  it("refresh refuses an unknown token and a malformed body", async () => {
    expectError(await refresh(`unknown-${suffix(16)}`), 401, "invalid_token");
    expectError(await api("POST", "/api/v1/auth/refresh", { json: {} }), 422, "validation_failed", ["refresh_token"]);
    expectError(await api("POST", "/api/v1/auth/refresh", { json: { refresh_token: 42 } }), 422, "validation_failed", [
      "refresh_token",
    ]);
    expectError(await api("POST", "/api/v1/auth/refresh", { body: "not json" }), 400, "invalid_json");
  });

  it("of concurrent refreshes with one token exactly one succeeds", async () => {
    const racers = 8;
    for (let round = 0; round < 3; round++) {
      const user = await register(newCredentials("race"));
      const token = user.auth.tokens.refresh_token;
      const results = await Promise.all(Array.from({ length: racers }, () => refresh(token)));
      const won = results.filter((r) => r.status === 200);
      expect(won, results.map((r) => `${r.status} ${r.text}`).join("\n")).toHaveLength(1);
      const lost = results.filter((r) => r.status !== 200);
      for (const res of lost) expectError(res, 401, ["token_reused", "invalid_token"]);
      // A loser that was told token_reused has revoked the session: the winner's new pair is dead.
      if (lost.some((r) => r.body.error.code === "token_reused")) {
        expectError(await refresh(won[0]!.body.tokens.refresh_token), 401, "invalid_token");
        expectError(await getMe(won[0]!.body.tokens.access_token), 401, "invalid_token");
      }
    }
  });
});
