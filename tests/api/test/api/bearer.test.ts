import { createHmac } from "node:crypto";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { api } from "../../lib/client.js";
import { expectError, register, suffix } from "../../lib/fixtures.js";

const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64url");
const unb64 = (value: string) => Buffer.from(value, "base64url").toString("utf8");

function sign(input: string, secret: string, algorithm = "sha256"): string {
  return createHmac(algorithm, secret).update(input).digest("base64url");
}

function split(token: string): [string, string, string] {
  const parts = token.split(".");
  expect(parts).toHaveLength(3);
  return parts as [string, string, string];
}

async function expectRefused(authorization: string | undefined, code: "unauthenticated" | "invalid_token") {
  const res = await api("GET", "/api/v1/me", { headers: authorization === undefined ? {} : { authorization } });
  expectError(res, 401, code);
  const challenge = res.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^Bearer/);
  if (code === "invalid_token") expect(challenge).toContain('error="invalid_token"');
}

describe("bearer authentication", () => {
  let token: string;
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  let secret: string;

  beforeAll(async () => {
    const user = await register();
    token = user.auth.tokens.access_token;
    const [h, p] = split(token);
    header = JSON.parse(unb64(h));
    payload = JSON.parse(unb64(p));
    secret = inject("jwtSecret");
  });

  it("accepts the token it issued, an HS256 JWT keyed by JWT_SECRET with an exp claim", async () => {
    expect((await api("GET", "/api/v1/me", { token })).status).toBe(200);
    expect(header.alg).toBe("HS256");
    expect(typeof payload.exp).toBe("number");
    const [h, p, s] = split(token);
    // The forgeries below are only meaningful if this suite signs the way the server does.
    expect(sign(`${h}.${p}`, secret)).toBe(s);
  });

  it("answers a missing or malformed Authorization header with unauthenticated", async () => {
    await expectRefused(undefined, "unauthenticated");
    await expectRefused(`Basic ${b64("user:pass")}`, "unauthenticated");
    await expectRefused("Bearer", "unauthenticated");
    await expectRefused("Bearer ", "unauthenticated");
    await expectRefused(token, "unauthenticated");
  });

  it("answers a garbage token with invalid_token", async () => {
    await expectRefused("Bearer garbage", "invalid_token");
    await expectRefused(`Bearer ${suffix(20)}.${suffix(20)}.${suffix(20)}`, "invalid_token");
  });

  it("refuses alg none", async () => {
    const [, p] = split(token);
    const none = b64(JSON.stringify({ ...header, alg: "none" }));
    await expectRefused(`Bearer ${none}.${p}.`, "invalid_token");
    const noneUpper = b64(JSON.stringify({ ...header, alg: "NONE" }));
    await expectRefused(`Bearer ${noneUpper}.${p}.`, "invalid_token");
  });

  it("refuses a token whose payload was changed after signing", async () => {
    const [h, , s] = split(token);
    const sub = payload.sub;
    const changed = { ...payload, sub: typeof sub === "string" ? String(Number(sub) + 1) : Number(sub) + 1 };
    await expectRefused(`Bearer ${h}.${b64(JSON.stringify(changed))}.${s}`, "invalid_token");
    const longer = { ...payload, exp: Number(payload.exp) + 86_400 };
    await expectRefused(`Bearer ${h}.${b64(JSON.stringify(longer))}.${s}`, "invalid_token");
  });

  it("refuses a token signed with another key or another algorithm", async () => {
    const [h, p] = split(token);
    await expectRefused(`Bearer ${h}.${p}.${sign(`${h}.${p}`, `${secret}x`)}`, "invalid_token");
    const hs512 = b64(JSON.stringify({ ...header, alg: "HS512" }));
    await expectRefused(`Bearer ${hs512}.${p}.${sign(`${hs512}.${p}`, secret, "sha512")}`, "invalid_token");
  });

  it("refuses an expired token even when its signature is good", async () => {
    const [h] = split(token);
    const now = Math.floor(Date.now() / 1000);
    const expired = b64(JSON.stringify({ ...payload, iat: now - 1200, nbf: undefined, exp: now - 600 }));
    await expectRefused(`Bearer ${h}.${expired}.${sign(`${h}.${expired}`, secret)}`, "invalid_token");
  });
});
