// The address book, the address checks behind it (the offline geocoder over data/geo), and
// checkout with a saved address. Every response is also checked against api/openapi.yaml.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type ApiResponse } from "../../lib/client.js";
import {
  createListing,
  expectError,
  fieldMessage,
  getOrder,
  idempotencyKey,
  putCartItem,
  randomLoopbackAddress,
  register,
  type Order,
  type ShippingAddress,
} from "../../lib/fixtures.js";
import { kCleanExit, startServer, type RunningServer } from "../../lib/server.js";

const kAddresses = "/api/v1/me/addresses";

interface SavedAddress extends ShippingAddress {
  id: number;
  is_default: boolean;
  validation: {
    precision: string;
    latitude: number | null;
    longitude: number | null;
    provider: string;
    place_id: string | null;
    validated_at: string;
  };
}

interface AddressCheck {
  valid: boolean;
  address: Record<string, string>;
  precision: string;
  latitude: number | null;
  longitude: number | null;
  provider: string | null;
  place_id: string | null;
  problems: { field: string; message: string }[];
}

async function user(): Promise<string> {
  const registered = await register({}, { localAddress: randomLoopbackAddress() });
  return registered.auth.tokens.access_token;
}

function saoPaulo(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    recipient_name: "Ada Lovelace",
    line1: "Rua Direita 10",
    city: "Sao Paolo",
    postal_code: "01002000",
    country: "br",
    ...overrides,
  };
}

function addAddress(token: string, json: unknown): Promise<ApiResponse<SavedAddress>> {
  return api<SavedAddress>("POST", kAddresses, { token, json });
}

async function added(token: string, json: unknown = saoPaulo()): Promise<SavedAddress> {
  const res = await addAddress(token, json);
  expect(res.status, res.text).toBe(201);
  expect(res.headers.get("location")).toBe(`${kAddresses}/${res.body.id}`);
  return res.body;
}

async function list(token: string): Promise<SavedAddress[]> {
  const res = await api<{ addresses: SavedAddress[] }>("GET", kAddresses, { token });
  expect(res.status, res.text).toBe(200);
  return res.body.addresses;
}

function patch(token: string, id: number | string, json: unknown): Promise<ApiResponse<SavedAddress>> {
  return api<SavedAddress>("PATCH", `${kAddresses}/${id}`, { token, json });
}

function remove(token: string, id: number | string): Promise<ApiResponse> {
  return api("DELETE", `${kAddresses}/${id}`, { token });
}

function validate(token: string, json: unknown, localAddress?: string): Promise<ApiResponse<AddressCheck>> {
  return api<AddressCheck>("POST", "/api/v1/geo/validate", { token, json, localAddress });
}

describe("the address book", () => {
  it("needs a signed-in user", async () => {
    expectError(await api("GET", kAddresses), 401, "unauthenticated");
    expectError(await api("POST", kAddresses, { json: saoPaulo() }), 401, "unauthenticated");
    expectError(await api("POST", "/api/v1/geo/validate", { json: saoPaulo() }), 401, "unauthenticated");
    expectError(await api("GET", "/api/v1/geo/suggest?q=sao"), 401, "unauthenticated");
  });

  it("stores an address in its normalised form with its validation, as the default", async () => {
    const token = await user();
    const saved = await added(token);
    expect(saved).toMatchObject({
      recipient_name: "Ada Lovelace",
      city: "São Paulo",
      postal_code: "01002-000",
      country: "BR",
      is_default: true,
      validation: { precision: "city", provider: "offline", place_id: "geonames:3448439" },
    });
    expect(saved.validation.latitude).toBeCloseTo(-23.5475, 4);
    expect(saved.validation.longitude).toBeCloseTo(-46.63611, 4);
    expect(await list(token)).toEqual([saved]);
  });

  it("keeps one default: a new default takes over, and deleting it promotes the newest", async () => {
    const token = await user();
    const first = await added(token);
    const second = await added(token, saoPaulo({ city: "Rio de Janeiro", postal_code: "22021-001" }));
    expect(second.is_default).toBe(false);
    const third = await added(token, { ...saoPaulo(), is_default: true });
    expect(third.is_default).toBe(true);
    let book = await list(token);
    expect(book.map((a) => [a.id, a.is_default])).toEqual([
      [third.id, true],
      [second.id, false],
      [first.id, false],
    ]);

    const made = await patch(token, first.id, { is_default: true });
    expect(made.status, made.text).toBe(200);
    expect((await list(token)).filter((a) => a.is_default).map((a) => a.id)).toEqual([first.id]);

    expect((await remove(token, first.id)).status).toBe(204);
    book = await list(token);
    expect(book.map((a) => [a.id, a.is_default])).toEqual([
      [third.id, true],
      [second.id, false],
    ]);
  });

  it("edits an address, checking the result as a new one", async () => {
    const token = await user();
    const saved = await added(token);
    const res = await patch(token, saved.id, { city: "rio de janeiro", postal_code: "22021001", phone: "+5521999998888" });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ city: "Rio de Janeiro", postal_code: "22021-001", phone: "+5521999998888" });
    expect(res.body.validation.place_id).not.toBe(saved.validation.place_id);

    const bad = await patch(token, saved.id, { city: "Atlantis", country: "XX" });
    expectError(bad, 422, "validation_failed", ["country"]);
    expectError(await patch(token, saved.id, { city: "Atlantis" }), 422, "validation_failed", ["city"]);
    expectError(await patch(token, saved.id, { colour: "red" }), 422, "validation_failed", ["colour"]);
    expectError(await patch(token, saved.id, { is_default: "yes" }), 422, "validation_failed", ["is_default"]);
    expect((await list(token))[0]!.city).toBe("Rio de Janeiro");
  });

  it("answers 404 for another user's address and changes nothing", async () => {
    const [owner, stranger] = await Promise.all([user(), user()]);
    const saved = await added(owner);
    expectError(await patch(stranger, saved.id, { city: "Rio de Janeiro" }), 404, "not_found");
    expectError(await remove(stranger, saved.id), 404, "not_found");
    expect(await list(owner)).toEqual([saved]);
    expect(await list(stranger)).toEqual([]);
    for (const id of ["abc", "0", "-1", "999999999999"]) {
      expectError(await patch(owner, id, { city: "Rio de Janeiro" }), 404, "not_found");
      expectError(await remove(owner, id), 404, "not_found");
    }
  });

  it.each([
    ["recipient_name", saoPaulo({ recipient_name: "" })],
    ["line1", saoPaulo({ line1: "x".repeat(201) })],
    ["city", saoPaulo({ city: undefined })],
    ["country", saoPaulo({ country: "XX" })],
    ["country", saoPaulo({ country: "BRA" })],
    ["phone", saoPaulo({ phone: "5511999998888" })],
    ["postal_code", saoPaulo({ postal_code: "0100" })],
    ["city", saoPaulo({ city: "Toronto" })],
    ["city", saoPaulo({ city: "Qwxzplorbville" })],
    ["is_default", { ...saoPaulo(), is_default: 1 }],
    ["unknown", { ...saoPaulo(), unknown: "x" }],
  ])("answers 422 naming %s", async (field, json) => {
    const token = await user();
    const body = expectError(await addAddress(token, json), 422, "validation_failed", [field]);
    expect(fieldMessage(body, field)).toBeTruthy();
    expect(await list(token)).toEqual([]);
  });

  it("answers 400 for a body that is not JSON and 415 for one that is not declared JSON", async () => {
    const token = await user();
    expectError(await api("POST", kAddresses, { token, body: "{nope" }), 400, "invalid_json");
    expectError(
      await api("POST", kAddresses, { token, body: "city=x", contentType: "application/x-www-form-urlencoded" }),
      415,
      "unsupported_media_type",
    );
  });

  it("holds at most 20 addresses, also when added at once", async () => {
    const token = await user();
    const results = await Promise.all(Array.from({ length: 24 }, () => addAddress(token, saoPaulo())));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 409)).toHaveLength(4);
    const book = await list(token);
    expect(book).toHaveLength(20);
    expect(book.filter((a) => a.is_default)).toHaveLength(1);
  });
});

describe("address checks for the form", () => {
  it.each([
    ["US", { city: "springfield", region: "IL", postal_code: "62701" }, "Springfield", "62701"],
    ["GB", { city: "MANCHESTER", postal_code: "m1 1ae" }, "Manchester", "M1 1AE"],
    ["DE", { city: "Koln", postal_code: "50667" }, "Köln", "50667"],
    ["BR", { city: "Sao Paolo", postal_code: "01001-000" }, "São Paulo", "01001-000"],
    ["JP", { city: "osaka", postal_code: "5300001" }, "Osaka", "530-0001"],
    ["CA", { city: "Montreal", postal_code: "H2Y1C6" }, "Montréal", "H2Y 1C6"],
  ])("normalises an address in %s to its city", async (country, fields, city, postal) => {
    const token = await user();
    const res = await validate(token, { recipient_name: "Ada", line1: "1 Main Street", country, ...fields });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ valid: true, precision: "city", provider: "offline", problems: [] });
    expect(res.body.address).toMatchObject({ city, postal_code: postal, country, line1: "1 Main Street" });
    expect(res.body.latitude).not.toBeNull();
  });

  // A wrong postal code still leaves the city placed; a city not found places nothing.
  it.each([
    ["a wrong postal format", { city: "Berlin", postal_code: "123456", country: "DE" }, "postal_code", "is not a valid postal code in DE", "city"],
    ["a city in another country", { city: "Toronto", country: "DE" }, "city", "is not a place in DE (there is a Toronto in CA)", "none"],
    ["a made-up city", { city: "Qwxzplorbville", country: "US" }, "city", "was not found in US", "none"],
    ["an unknown country", { city: "Paris", country: "XX" }, "country", "is not a country code assigned by ISO 3166-1", "none"],
  ])("reports %s as a problem of its field", async (_what, fields, field, message, precision) => {
    const token = await user();
    const res = await validate(token, { recipient_name: "Ada", line1: "1 Main Street", ...fields });
    expect(res.status, res.text).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.precision).toBe(precision);
    expect(res.body.problems).toEqual([{ field, message }]);
  });

  it("answers 422 for a body that is not an address", async () => {
    const token = await user();
    expectError(await validate(token, { city: 5, country: "US" }), 422, "validation_failed", ["recipient_name", "line1", "city"]);
  });

  it("suggests cities by prefix, accents ignored, most populous first", async () => {
    const token = await user();
    const res = await api("GET", "/api/v1/geo/suggest?q=sao%20pa&country=br", { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.suggestions[0]).toMatchObject({ city: "São Paulo", country: "BR", place_id: "geonames:3448439" });
    const anywhere = await api("GET", "/api/v1/geo/suggest?q=toronto", { token });
    expect(anywhere.body.suggestions[0]).toMatchObject({ city: "Toronto", country: "CA" });
    expectError(await api("GET", "/api/v1/geo/suggest?q=", { token }), 422, "validation_failed", ["q"]);
    expectError(await api("GET", "/api/v1/geo/suggest?q=x&country=XX", { token }), 422, "validation_failed", ["country"]);
    expectError(await api("GET", "/api/v1/geo/suggest?q=x&session=a%20b", { token }), 422, "validation_failed", ["session"]);
    expect((await api("GET", "/api/v1/geo/suggest?q=berl&session=f-1", { token })).status).toBe(200);
  });
});

describe("geo rate limits (a second server with RATE_LIMIT_GEO_USER=3/1m, RATE_LIMIT_GEO_IP=5/1m)", () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ env: { RATE_LIMIT_GEO_USER: "3/1m", RATE_LIMIT_GEO_IP: "5/1m" } });
  });

  afterAll(async () => {
    const exit = await server?.stop();
    expect(exit, server?.output()).toBe(kCleanExit);
  });

  async function userThere(): Promise<string> {
    const res = await register({}, { baseUrl: server.baseUrl, localAddress: randomLoopbackAddress() });
    return res.auth.tokens.access_token;
  }

  it("limits each user, then each client IP", async () => {
    const [a, b] = await Promise.all([userThere(), userThere()]);
    const from = randomLoopbackAddress();
    const call = (token: string) =>
      api("POST", "/api/v1/geo/validate", { baseUrl: server.baseUrl, token, json: saoPaulo(), localAddress: from });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(a)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await call(a);
    expectError(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // The second user has their own bucket, but shares the IP's: 5 from this IP were taken by
    // a's three successes... and b's first two.
    const fromB: number[] = [];
    for (let i = 0; i < 3; i++) fromB.push((await call(b)).status);
    expect(fromB).toEqual([200, 200, 429]);
  });
});

describe("checkout with a saved address", () => {
  async function buyerWithCart(): Promise<string> {
    const [seller, buyer] = await Promise.all([user(), user()]);
    const listing = await createListing(seller, { price_cents: 1500, quantity: 5 });
    const put = await putCartItem(buyer, listing.id, 1);
    expect(put.status, put.text).toBe(200);
    return buyer;
  }

  function placeWith(token: string, json: unknown): Promise<ApiResponse<Order>> {
    return api<Order>("POST", "/api/v1/orders", { token, json, headers: { "idempotency-key": idempotencyKey() } });
  }

  it("snapshots the normalised address, which survives editing and deleting the address", async () => {
    const buyer = await buyerWithCart();
    const saved = await added(buyer);
    const placed = await placeWith(buyer, { address_id: saved.id });
    expect(placed.status, placed.text).toBe(201);
    const snapshot = {
      recipient_name: "Ada Lovelace",
      line1: "Rua Direita 10",
      line2: "",
      city: "São Paulo",
      region: "",
      postal_code: "01002-000",
      country: "BR",
      phone: "",
    };
    expect(placed.body.shipping_address).toEqual(snapshot);

    const edited = await patch(buyer, saved.id, { recipient_name: "Someone Else", city: "Rio de Janeiro", postal_code: "22021-001" });
    expect(edited.status, edited.text).toBe(200);
    expect((await getOrder(buyer, placed.body.id)).body.shipping_address).toEqual(snapshot);

    expect((await remove(buyer, saved.id)).status).toBe(204);
    expect((await getOrder(buyer, placed.body.id)).body.shipping_address).toEqual(snapshot);
  });

  it("refuses another user's address, both kinds of address at once, and a bad id", async () => {
    const [buyer, other] = await Promise.all([buyerWithCart(), user()]);
    const theirs = await added(other);
    expectError(await placeWith(buyer, { address_id: theirs.id }), 422, "validation_failed", ["address_id"]);
    const mine = await added(buyer);
    expectError(
      await placeWith(buyer, { address_id: mine.id, shipping_address: saoPaulo() }),
      422,
      "validation_failed",
      ["address_id"],
    );
    expectError(await placeWith(buyer, { address_id: "one" }), 422, "validation_failed", ["address_id"]);
    expectError(await placeWith(buyer, { address_id: 999999999999 }), 422, "validation_failed", ["address_id"]);
  });
});
