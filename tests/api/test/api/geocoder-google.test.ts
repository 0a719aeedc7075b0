// GEOCODER=google against Google's own Maps Platform description (the stand-in in
// ../shared/providers, served by Prism, which answers 422 to any request that breaks Google's
// contract) and against a server of our own for what the stand-in cannot do: 5xx and timeouts.
// One marketplace server talks to a small front of ours that either answers itself or forwards
// to the stand-in with the example the test picked, and records every answer.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { api } from "../../lib/client.js";
import { expectError, idempotencyKey, randomLoopbackAddress, register, suffix } from "../../lib/fixtures.js";
import { baseEnv, freePort, kCleanExit, randomSecret, repoRoot, runCommand, startServer, type RunningServer } from "../../lib/server.js";

// PROVIDERS_DIR, else ../shared/providers beside the checkout, else the machine's copy (a clone
// elsewhere, as CI's may be, has nothing beside it).
function providersDir(): string {
  if (process.env.PROVIDERS_DIR) return process.env.PROVIDERS_DIR;
  const beside = path.resolve(repoRoot, "../shared/providers");
  return existsSync(path.join(beside, "mock")) ? beside : "/work/shared/providers";
}
const kMock = path.join(providersDir(), "mock");
const kKey = "test-maps-key";

type Mode = { kind: "stand-in"; example?: string } | { kind: "status"; codes: number[] } | { kind: "hang" };

let mode: Mode = { kind: "stand-in" };
let seen: { path: string; query: URLSearchParams; answered: number }[] = [];
let prism: ChildProcess | undefined;
let prismPort = 0;
let frontPort = 0;
let front: http.Server | undefined;
let server: RunningServer | undefined;

async function waitForPrism(port: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/maps/api/geocode/json?address=x&key=k`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the Google stand-in did not start");
}

function answer(res: http.ServerResponse, status: number, body: string, record: { answered: number }): void {
  record.answered = status;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(body);
}

function startFront(port: number): Promise<http.Server> {
  const srv = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://front");
    const record = { path: url.pathname, query: url.searchParams, answered: 0 };
    seen.push(record);
    const current = mode;
    if (current.kind === "hang") return; // never answers: the adapter's timeout must end it
    if (current.kind === "status") {
      const code = current.codes.shift() ?? 200;
      if (code !== 200) return answer(res, code, '{"error":"down"}', record);
    }
    const forward = new URL(url.pathname + url.search, `http://127.0.0.1:${prismPort}`);
    if (current.kind === "stand-in" && current.example) forward.searchParams.set("__example", current.example);
    const upstream = await fetch(forward);
    answer(res, upstream.status, await upstream.text(), record);
  });
  return new Promise((resolve) => srv.listen(port, "127.0.0.1", () => resolve(srv)));
}

async function user(): Promise<string> {
  const res = await register({}, { baseUrl: server!.baseUrl, localAddress: randomLoopbackAddress() });
  return res.auth.tokens.access_token;
}

// A fresh street each time: answers are cached by request.
function address(country: string, city: string, extra: Record<string, string> = {}): Record<string, string> {
  return { recipient_name: "Ada", line1: `${suffix(3)} Main Street`, city, country, ...extra };
}

async function validate(token: string, json: unknown) {
  const res = await api("POST", "/api/v1/geo/validate", { baseUrl: server!.baseUrl, token, json });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

describe("GEOCODER=google", () => {
  beforeAll(async () => {
    expect(existsSync(kMock), `the Google stand-in is missing: ${kMock}`).toBe(true);
    prismPort = await freePort();
    prism = spawn(kMock, ["google", String(prismPort)], { cwd: path.resolve(repoRoot, "tests/api"), stdio: "ignore" });
    await waitForPrism(prismPort);
    frontPort = await freePort();
    front = await startFront(frontPort);
    server = await startServer({
      env: {
        GEOCODER: "google",
        GOOGLE_MAPS_API_KEY: kKey,
        GOOGLE_MAPS_BASE_URL: `http://127.0.0.1:${frontPort}`,
        GOOGLE_MAPS_TIMEOUT: "1s",
        RATE_LIMIT_GEO_USER: "100000/1m",
        RATE_LIMIT_GEO_IP: "100000/1m",
      },
    });
  }, 120_000);

  afterAll(async () => {
    const exit = await server?.stop();
    front?.close();
    prism?.kill("SIGTERM");
    expect(exit, server?.output()).toBe(kCleanExit);
  });

  beforeEach(() => {
    mode = { kind: "stand-in" };
    seen = [];
  });

  it("sends requests the stand-in accepts, with the key and the country, and maps a street result", async () => {
    const token = await user();
    mode = { kind: "stand-in", example: "response" };
    const body = await validate(token, address("US", "Mountain View", { postal_code: "94043" }));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.answered).toBe(200); // not 422: the stand-in found nothing against Google's contract
    expect(seen[0]!.path).toBe("/maps/api/geocode/json");
    expect(seen[0]!.query.get("key")).toBe(kKey);
    expect(seen[0]!.query.get("components")).toBe("country:US");
    expect(seen[0]!.query.get("address")).toMatch(/Main Street, Mountain View, 94043$/);
    expect(body).toMatchObject({
      valid: true,
      provider: "google",
      precision: "street",
      place_id: "ChIJj38IfwK6j4ARNcyPDnEGa9g",
      address: { city: "Mountain View", region: "CA", postal_code: "94043", country: "US" },
    });
  });

  it.each([
    ["postcode_localities", "postal_code", "US"],
    ["winnetka_response", "city", "US"],
    ["toledo_region_es_response", "city", "ES"],
    ["components_filtering_response", "street", "GB"],
  ])("maps the %s example to precision %s", async (example, precision, country) => {
    const token = await user();
    mode = { kind: "stand-in", example };
    const body = await validate(token, address(country, "Anywhere"));
    expect(seen.map((s) => s.answered)).toEqual([200]);
    expect(body).toMatchObject({ valid: true, provider: "google", precision });
  });

  it("reports ZERO_RESULTS as a city problem, without retrying", async () => {
    const token = await user();
    mode = { kind: "stand-in", example: "zero_results" };
    const body = await validate(token, address("US", "Nowhere"));
    expect(seen).toHaveLength(1);
    expect(body).toMatchObject({ valid: false, provider: "google", precision: "none" });
    expect(body.problems).toEqual([{ field: "city", message: "was not found in US" }]);
  });

  it("flags a result in another country than the one asked for", async () => {
    const token = await user();
    mode = { kind: "stand-in", example: "response" }; // a place in the US
    const body = await validate(token, address("DE", "Berlin"));
    expect(body.valid).toBe(false);
    expect(body.problems[0]).toMatchObject({ field: "city" });
  });

  it("retries OVER_QUERY_LIMIT three times, then falls back to offline and says so", async () => {
    const token = await user();
    mode = { kind: "stand-in", example: "over_query_limit" };
    const body = await validate(token, address("BR", "Sao Paolo"));
    expect(seen).toHaveLength(3);
    expect(body).toMatchObject({ valid: true, provider: "offline", precision: "city", address: { city: "São Paulo" } });
  });

  it("does not retry REQUEST_DENIED or INVALID_REQUEST, and falls back", async () => {
    const token = await user();
    for (const example of ["request_denied", "invalid_request"]) {
      seen = [];
      mode = { kind: "stand-in", example };
      const body = await validate(token, address("DE", "Berlin"));
      expect(seen, example).toHaveLength(1);
      expect(body).toMatchObject({ valid: true, provider: "offline" });
    }
  });

  it("retries 5xx with backoff and uses the answer that finally comes", async () => {
    const token = await user();
    mode = { kind: "status", codes: [503, 500] };
    const body = await validate(token, address("US", "Mountain View"));
    expect(seen.map((s) => s.answered)).toEqual([503, 500, 200]);
    expect(body.provider).toBe("google");
  });

  it("falls back to offline when Google keeps failing or does not answer in time", async () => {
    const token = await user();
    mode = { kind: "status", codes: [502, 503, 504] };
    let body = await validate(token, address("DE", "Koln"));
    expect(seen).toHaveLength(3);
    expect(body).toMatchObject({ provider: "offline", precision: "city", address: { city: "Köln" } });

    seen = [];
    mode = { kind: "hang" };
    const started = Date.now();
    body = await validate(token, address("DE", "Koln"));
    expect(seen).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(body).toMatchObject({ provider: "offline", precision: "city" });
  });

  it("caches an answer: the same address asks Google once", async () => {
    const token = await user();
    mode = { kind: "stand-in", example: "response" };
    const same = address("US", "Mountain View");
    const first = await validate(token, same);
    const second = await validate(token, same);
    expect(seen).toHaveLength(1);
    expect(second).toEqual(first);
  });

  it("checks the postal code format before asking Google", async () => {
    const token = await user();
    const body = await validate(token, address("DE", "Berlin", { postal_code: "123" }));
    expect(seen).toHaveLength(0);
    expect(body.problems).toEqual([{ field: "postal_code", message: "is not a valid postal code in DE" }]);
  });

  it("suggests with Places Autocomplete and a session token, in the country asked", async () => {
    const token = await user();
    mode = { kind: "stand-in", example: "paris" };
    const res = await api("GET", "/api/v1/geo/suggest?q=par&country=fr&session=form-1", { baseUrl: server!.baseUrl, token });
    expect(res.status, res.text).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.answered).toBe(200);
    expect(seen[0]!.path).toBe("/maps/api/place/autocomplete/json");
    expect(seen[0]!.query.get("components")).toBe("country:FR");
    expect(seen[0]!.query.get("sessiontoken")).toMatch(/^u\d+-form-1$/);
    expect(res.body.suggestions[0]).toMatchObject({ description: "Paris, France", city: "Paris" });
  });

  it("counts every call in /metrics by API and result", async () => {
    const token = await user();
    const metric = async (api: string, result: string): Promise<number> => {
      const res = await fetch(`${server!.baseUrl}/metrics`);
      const line = (await res.text()).split("\n").find((l) => l.startsWith(`google_maps_calls_total{api="${api}",result="${result}"}`));
      expect(line, `${api} ${result}`).toBeDefined();
      return Number(line!.split(" ").pop());
    };
    const before = { retried: await metric("geocode", "retried"), gaveUp: await metric("geocode", "gave_up") };
    mode = { kind: "status", codes: [503, 503, 503] };
    await validate(token, address("DE", "Berlin"));
    expect(await metric("geocode", "retried")).toBe(before.retried + 2);
    expect(await metric("geocode", "gave_up")).toBe(before.gaveUp + 1);
  });

  // Each check costs Google quota: the address book and checkout take from the same per-user
  // and per-IP buckets as /geo/validate, so nobody can spend the key's quota through them.
  it("limits the address book and addresses written at checkout like /geo/validate", async () => {
    const limited = await startServer({
      env: {
        GEOCODER: "google",
        GOOGLE_MAPS_API_KEY: kKey,
        GOOGLE_MAPS_BASE_URL: `http://127.0.0.1:${frontPort}`,
        GOOGLE_MAPS_TIMEOUT: "1s",
        RATE_LIMIT_GEO_USER: "3/1h",
        RATE_LIMIT_GEO_IP: "100000/1m",
      },
    });
    try {
      mode = { kind: "stand-in", example: "response" };
      const registered = await register({}, { baseUrl: limited.baseUrl, localAddress: randomLoopbackAddress() });
      const token = registered.auth.tokens.access_token;
      const add = () => api("POST", "/api/v1/me/addresses", { baseUrl: limited.baseUrl, token, json: address("US", "Mountain View") });
      const first = await add();
      expect(first.status, first.text).toBe(201);
      const patched = await api("PATCH", `/api/v1/me/addresses/${first.body.id}`, {
        baseUrl: limited.baseUrl,
        token,
        json: { line2: "Suite 5" },
      });
      expect(patched.status, patched.text).toBe(200);
      expect((await add()).status).toBe(201);
      const refused = await add();
      expectError(refused, 429, "rate_limited");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      const order = await api("POST", "/api/v1/orders", {
        baseUrl: limited.baseUrl,
        token,
        json: { shipping_address: address("US", "Mountain View") },
        headers: { "idempotency-key": idempotencyKey() },
      });
      expectError(order, 429, "rate_limited");
      // Refused before anything was stored: still two addresses.
      const book = await api("GET", "/api/v1/me/addresses", { baseUrl: limited.baseUrl, token });
      expect(book.body.addresses).toHaveLength(2);
    } finally {
      expect(await limited.stop(), limited.output()).toBe(kCleanExit);
    }
  });

  it("saves addresses in the address book with Google's answer", async () => {
    const token = await user();
    mode = { kind: "stand-in", example: "response" };
    const res = await api("POST", "/api/v1/me/addresses", {
      baseUrl: server!.baseUrl,
      token,
      json: address("US", "Mountain View"),
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.validation).toMatchObject({ provider: "google", precision: "street", place_id: "ChIJj38IfwK6j4ARNcyPDnEGa9g" });
  });
});

describe("without a key", () => {
  it("refuses GEOCODER=google at start-up, so the adapter is never built", async () => {
    const env = { ...baseEnv(randomSecret()), GEOCODER: "google", HTTP_PORT: String(await freePort()) };
    await expect(runCommand(["serve"], env, 20_000)).rejects.toThrow(/GOOGLE_MAPS_API_KEY/);
  });

  it("never calls Google with GEOCODER=offline, even with a base URL set", async () => {
    let calls = 0;
    const port = await freePort();
    const srv = http.createServer((_req, res) => {
      calls += 1;
      res.end("{}");
    });
    await new Promise<void>((resolve) => srv.listen(port, "127.0.0.1", () => resolve()));
    const offline = await startServer({ env: { GEOCODER: "offline", GOOGLE_MAPS_BASE_URL: `http://127.0.0.1:${port}` } });
    try {
      const registered = await register({}, { baseUrl: offline.baseUrl, localAddress: randomLoopbackAddress() });
      const res = await api("POST", "/api/v1/geo/validate", {
        baseUrl: offline.baseUrl,
        token: registered.auth.tokens.access_token,
        json: address("DE", "Berlin"),
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.provider).toBe("offline");
      expectError(await api("GET", "/api/v1/geo/suggest", { baseUrl: offline.baseUrl }), 401, "unauthenticated");
      expect(calls).toBe(0);
    } finally {
      expect(await offline.stop()).toBe(kCleanExit);
      srv.close();
    }
  });
});
