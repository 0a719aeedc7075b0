import { describe, expect, it } from "vitest";
import { api, type ApiResponse } from "../../lib/client.js";
import {
  collectPages,
  createListing,
  etagOf,
  expectError,
  fieldMessage,
  newListing,
  register,
  type Listing,
} from "../../lib/fixtures.js";

const kNoSuchId = 999_999_999_999;

function listingPath(id: number | string): string {
  return `/api/v1/listings/${id}`;
}

function patch(id: number, token: string, json: unknown, ifMatch?: string): Promise<ApiResponse<Listing>> {
  return api<Listing>("PATCH", listingPath(id), { token, json, headers: ifMatch === undefined ? {} : { "if-match": ifMatch } });
}

async function sellerAndListing() {
  const seller = await register();
  const token = seller.auth.tokens.access_token;
  const listing = await createListing(token);
  return { seller, token, listing };
}

// Ids of the seller's listings that browsing and the shop page show.
async function listedIds(username: string): Promise<{ browse: number[]; shop: number[] }> {
  const browse = await collectPages("/api/v1/listings", { seller: username, limit: 100 });
  const shop = await collectPages(`/api/v1/users/${username}/listings`, { limit: 100 });
  return { browse: browse.items.map((l) => l.id), shop: shop.items.map((l) => l.id) };
}

describe("creating a listing", () => {
  it("answers 201 with the listing, its ETag and its Location, at version 1 and active", async () => {
    const seller = await register({ display_name: "Lamp Seller" });
    const res = await api<Listing>("POST", "/api/v1/listings", {
      token: seller.auth.tokens.access_token,
      json: {
        title: "  Vintage brass desk lamp  ",
        description: "  Works; new cable.\nSmall dent on the base.  ",
        price_cents: 4500,
        quantity: 2,
        category: "home-garden",
        condition: "like_new",
      },
    });
    expect(res.status, res.text).toBe(201);
    const listing = res.body;
    expect(listing).toMatchObject({
      title: "Vintage brass desk lamp",
      description: "Works; new cable.\nSmall dent on the base.",
      price_cents: 4500,
      currency: "USD",
      quantity: 2,
      available: 2,
      category: "home-garden",
      condition: "like_new",
      status: "active",
      version: 1,
      images: [],
    });
    expect(listing.seller).toEqual({
      id: seller.auth.user.id,
      username: seller.username,
      display_name: "Lamp Seller",
      created_at: seller.auth.user.created_at,
    });
    expect(res.headers.get("etag")).toBe(etagOf(1));
    expect(res.headers.get("location")).toBe(listingPath(listing.id));

    const fetched = await api<Listing>("GET", res.headers.get("location")!);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(listing);
    expect(fetched.headers.get("etag")).toBe(etagOf(1));
  });

  it("defaults the description to empty and the currency to the platform's, and accepts it named", async () => {
    const seller = await register();
    const token = seller.auth.tokens.access_token;
    const { description: _, ...withoutDescription } = newListing();
    const bare = await api<Listing>("POST", "/api/v1/listings", { token, json: withoutDescription });
    expect(bare.status, bare.text).toBe(201);
    expect(bare.body.description).toBe("");
    expect(bare.body.currency).toBe("USD");
    const named = await api<Listing>("POST", "/api/v1/listings", { token, json: newListing({ currency: "USD" }) });
    expect(named.status, named.text).toBe(201);
    expect(named.body.currency).toBe("USD");
  });

  it("accepts the limits of every range", async () => {
    const seller = await register();
    const token = seller.auth.tokens.access_token;
    for (const overrides of [
      { title: "abc", price_cents: 1, quantity: 0 },
      { title: "t".repeat(120), price_cents: 99_999_999, quantity: 1_000_000 },
      // Lengths count characters, not bytes.
      { title: "é".repeat(120), description: "ü".repeat(5000) },
    ]) {
      const res = await api<Listing>("POST", "/api/v1/listings", { token, json: newListing(overrides) });
      expect(res.status, `${JSON.stringify(overrides).slice(0, 100)} → ${res.text.slice(0, 300)}`).toBe(201);
      expect(res.body).toMatchObject(overrides);
    }
  });

  it.each([
    ["a title of 2 characters", { title: "ab" }, "title"],
    ["a title of 2 characters once trimmed", { title: "   ab   " }, "title"],
    ["a title of 121 characters", { title: "t".repeat(121) }, "title"],
    ["a title of two lines", { title: "first line\nsecond line" }, "title"],
    ["a title that is not a string", { title: 12345 }, "title"],
    ["a description of 5001 characters", { description: "d".repeat(5001) }, "description"],
    ["a price of 0", { price_cents: 0 }, "price_cents"],
    ["a price of 100000000", { price_cents: 100_000_000 }, "price_cents"],
    ["a negative price", { price_cents: -100 }, "price_cents"],
    ["a price of 3.5", { price_cents: 3.5 }, "price_cents"],
    ['a price of "3"', { price_cents: "3" }, "price_cents"],
    ["a quantity of -1", { quantity: -1 }, "quantity"],
    ["a quantity of 1000001", { quantity: 1_000_001 }, "quantity"],
    ["a quantity of 2.5", { quantity: 2.5 }, "quantity"],
    ["an unknown category", { category: "spaceships" }, "category"],
    ["an unknown condition", { condition: "broken" }, "condition"],
    ["another currency", { currency: "EUR" }, "currency"],
    ["an unknown field", { colour: "red" }, "colour"],
  ])("refuses %s, naming the field", async (_, overrides, field) => {
    const token = (await register()).auth.tokens.access_token;
    const res = await api("POST", "/api/v1/listings", { token, json: { ...newListing(), ...overrides } });
    expectError(res, 422, "validation_failed", [field]);
  });

  it.each(["id", "seller", "status", "version", "available", "images", "created_at", "updated_at"])(
    "refuses the read-only field %s as one that cannot be changed",
    async (field) => {
      const { token, listing } = await sellerAndListing();
      const value = (listing as unknown as Record<string, unknown>)[field];
      const res = await api("POST", "/api/v1/listings", { token, json: { ...newListing(), [field]: value } });
      const body = expectError(res, 422, "validation_failed", [field]);
      expect(fieldMessage(body, field)).toBe("cannot be changed");
    },
  );

  it("names every missing required field at once", async () => {
    const seller = await register();
    const res = await api("POST", "/api/v1/listings", { token: seller.auth.tokens.access_token, json: {} });
    expectError(res, 422, "validation_failed", ["category", "condition", "price_cents", "quantity", "title"]);
  });

  it("refuses a body that is not JSON", async () => {
    const seller = await register();
    const token = seller.auth.tokens.access_token;
    expectError(await api("POST", "/api/v1/listings", { token, body: '{"title": "x",' }), 400, "invalid_json");
    expectError(
      await api("POST", "/api/v1/listings", { token, body: JSON.stringify(newListing()), contentType: "text/plain" }),
      415,
      "unsupported_media_type",
    );
  });

  it("needs a signed-in seller", async () => {
    expectError(await api("POST", "/api/v1/listings", { json: newListing() }), 401, "unauthenticated");
    expectError(await api("POST", "/api/v1/listings", { json: newListing(), token: "garbage" }), 401, "invalid_token");
  });
});

describe("reading a listing", () => {
  it("is public for an active listing, signed in or not", async () => {
    const { listing } = await sellerAndListing();
    const other = await register();
    expect((await api("GET", listingPath(listing.id))).body).toEqual(listing);
    expect((await api("GET", listingPath(listing.id), { token: other.auth.tokens.access_token })).body).toEqual(listing);
  });

  it("refuses a bearer token that is present but bad, even where none is needed", async () => {
    const { listing } = await sellerAndListing();
    expectError(await api("GET", listingPath(listing.id), { token: "garbage" }), 401, "invalid_token");
  });

  it.each([String(kNoSuchId), "0", "-1", "abc", "1.5", "1e3"])("answers 404 for the id %s", async (id) => {
    expectError(await api("GET", listingPath(id)), 404, "not_found");
  });
});

describe("editing a listing", () => {
  it("changes only the fields named, trimmed, and bumps the version and ETag", async () => {
    const { token, listing } = await sellerAndListing();
    const res = await patch(listing.id, token, { title: "  Renamed item  ", price_cents: 2500, condition: "fair" });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      ...listing,
      title: "Renamed item",
      price_cents: 2500,
      condition: "fair",
      version: 2,
      updated_at: res.body.updated_at,
    });
    expect(res.headers.get("etag")).toBe(etagOf(2));
    expect(Date.parse(res.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(listing.updated_at));
    expect((await api("GET", listingPath(listing.id))).body).toEqual(res.body);
  });

  it("with an empty object changes nothing", async () => {
    const { token, listing } = await sellerAndListing();
    const res = await patch(listing.id, token, {});
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual(listing);
    expect(res.headers.get("etag")).toBe(etagOf(1));
  });

  it.each([
    ["a short title", { title: "ab" }, "title"],
    ["a two-line title", { title: "a\nb c" }, "title"],
    ["a price of 0", { price_cents: 0 }, "price_cents"],
    ["a price of 3.5", { price_cents: 3.5 }, "price_cents"],
    ['a price of "3"', { price_cents: "3" }, "price_cents"],
    ["a quantity of -1", { quantity: -1 }, "quantity"],
    ["an unknown category", { category: "spaceships" }, "category"],
    ["an unknown condition", { condition: "mint" }, "condition"],
    ["another currency", { currency: "EUR" }, "currency"],
    ["an unknown field", { colour: "red" }, "colour"],
  ])("refuses %s and changes nothing", async (_, json, field) => {
    const { token, listing } = await sellerAndListing();
    expectError(await patch(listing.id, token, { price_cents: 4242, ...json }), 422, "validation_failed", [field]);
    expect((await api("GET", listingPath(listing.id))).body).toEqual(listing);
  });

  it.each(["id", "seller", "status", "version", "available", "images", "created_at", "updated_at"])(
    "refuses the read-only field %s",
    async (field) => {
      const { token, listing } = await sellerAndListing();
      const value = (listing as unknown as Record<string, unknown>)[field];
      const body = expectError(await patch(listing.id, token, { [field]: value }), 422, "validation_failed", [field]);
      expect(fieldMessage(body, field)).toBe("cannot be changed");
    },
  );

  it("is for the seller only: 403 for another user, 401 for nobody, and nothing changes", async () => {
    const { listing } = await sellerAndListing();
    const other = await register();
    expectError(await patch(listing.id, other.auth.tokens.access_token, { price_cents: 1 }), 403, "forbidden");
    expectError(await api("PATCH", listingPath(listing.id), { json: { price_cents: 1 } }), 401, "unauthenticated");
    expect((await api("GET", listingPath(listing.id))).body).toEqual(listing);
  });

  it("answers 404 for a listing that does not exist", async () => {
    const user = await register();
    expectError(await patch(kNoSuchId, user.auth.tokens.access_token, { price_cents: 100 }), 404, "not_found");
  });
});

describe("If-Match on PATCH", () => {
  it("applies a PATCH with the current ETag and refuses one with an old ETag", async () => {
    const { token, listing } = await sellerAndListing();
    const first = await patch(listing.id, token, { price_cents: 2500 }, etagOf(1));
    expect(first.status, first.text).toBe(200);
    expect(first.headers.get("etag")).toBe(etagOf(2));

    expectError(await patch(listing.id, token, { price_cents: 1 }, etagOf(1)), 412, "precondition_failed");
    const now = await api<Listing>("GET", listingPath(listing.id));
    expect(now.body).toEqual(first.body);

    const second = await patch(listing.id, token, { quantity: 7 }, first.headers.get("etag")!);
    expect(second.status, second.text).toBe(200);
    expect(second.body).toMatchObject({ price_cents: 2500, quantity: 7, version: 3 });
    expect(second.headers.get("etag")).toBe(etagOf(3));
  });

  it.each(["2", "W/\"1\"", '"one"', '"0"', '""', "garbage"])(
    "refuses the malformed If-Match %s with 412",
    async (ifMatch) => {
      const { token, listing } = await sellerAndListing();
      expectError(await patch(listing.id, token, { price_cents: 1 }, ifMatch), 412, "precondition_failed");
      expect((await api("GET", listingPath(listing.id))).body).toEqual(listing);
    },
  );

  it('accepts If-Match: * as any version', async () => {
    const { token, listing } = await sellerAndListing();
    const res = await patch(listing.id, token, { price_cents: 333 }, "*");
    expect(res.status, res.text).toBe(200);
    expect(res.body.version).toBe(2);
  });

  it("lets exactly one of concurrent PATCHes with the same If-Match through", async () => {
    const { token, listing } = await sellerAndListing();
    const prices = [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008];
    const answers = await Promise.all(prices.map((price_cents) => patch(listing.id, token, { price_cents }, etagOf(1))));
    const won = answers.filter((res) => res.status === 200);
    expect(won, answers.map((res) => `${res.status} ${res.text.slice(0, 120)}`).join("\n")).toHaveLength(1);
    for (const res of answers) if (res.status !== 200) expectError(res, 412, "precondition_failed");

    const stored = await api<Listing>("GET", listingPath(listing.id));
    expect(stored.body.version).toBe(2);
    expect(stored.body.price_cents).toBe(won[0]!.body.price_cents);
    expect(stored.headers.get("etag")).toBe(etagOf(2));
  });

  it("without If-Match, concurrent PATCHes of different fields all land", async () => {
    const { token, listing } = await sellerAndListing();
    const edits = [{ price_cents: 777 }, { quantity: 9 }, { title: "Concurrently renamed" }, { condition: "fair" }];
    const answers = await Promise.all(edits.map((json) => patch(listing.id, token, json)));
    for (const res of answers) expect(res.status, res.text).toBe(200);
    const stored = await api<Listing>("GET", listingPath(listing.id));
    expect(stored.body).toMatchObject({
      price_cents: 777,
      quantity: 9,
      available: 9,
      title: "Concurrently renamed",
      condition: "fair",
      description: listing.description,
      category: listing.category,
      version: 1 + edits.length,
    });
  });
});

describe("deactivating and activating", () => {
  it("hides an inactive listing from everyone but its seller, and shows it again once active", async () => {
    const { seller, token, listing } = await sellerAndListing();
    const other = await register();

    const off = await api<Listing>("POST", `${listingPath(listing.id)}/deactivate`, { token });
    expect(off.status, off.text).toBe(200);
    expect(off.body).toMatchObject({ id: listing.id, status: "inactive", version: 2 });
    expect(off.headers.get("etag")).toBe(etagOf(2));

    expectError(await api("GET", listingPath(listing.id)), 404, "not_found");
    expectError(await api("GET", listingPath(listing.id), { token: other.auth.tokens.access_token }), 404, "not_found");
    const own = await api<Listing>("GET", listingPath(listing.id), { token });
    expect(own.status).toBe(200);
    expect(own.body).toEqual(off.body);
    expect(await listedIds(seller.username)).toEqual({ browse: [], shop: [] });

    // The seller may still edit it.
    expect((await patch(listing.id, token, { quantity: 5 })).status).toBe(200);

    const on = await api<Listing>("POST", `${listingPath(listing.id)}/activate`, { token });
    expect(on.status, on.text).toBe(200);
    expect(on.body).toMatchObject({ status: "active", quantity: 5, version: 4 });
    expect((await api("GET", listingPath(listing.id))).status).toBe(200);
    expect(await listedIds(seller.username)).toEqual({ browse: [listing.id], shop: [listing.id] });
  });

  it("changes nothing when the listing is already in that state", async () => {
    const { token, listing } = await sellerAndListing();
    const on = await api<Listing>("POST", `${listingPath(listing.id)}/activate`, { token });
    expect(on.status).toBe(200);
    expect(on.body).toEqual(listing);
    expect((await api("POST", `${listingPath(listing.id)}/deactivate`, { token })).body.version).toBe(2);
    const again = await api<Listing>("POST", `${listingPath(listing.id)}/deactivate`, { token });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "inactive", version: 2 });
  });

  it("is for the seller only", async () => {
    const { listing } = await sellerAndListing();
    const other = await register();
    for (const action of ["deactivate", "activate"]) {
      const path = `${listingPath(listing.id)}/${action}`;
      expectError(await api("POST", path, { token: other.auth.tokens.access_token }), 403, "forbidden");
      expectError(await api("POST", path), 401, "unauthenticated");
      expectError(await api("POST", `${listingPath(kNoSuchId)}/${action}`, { token: other.auth.tokens.access_token }), 404, "not_found");
    }
    expect((await api("GET", listingPath(listing.id))).body).toEqual(listing);
  });
});

describe("deleting a listing", () => {
  it("answers 204, then 404 everywhere, and takes it out of every list", async () => {
    const { seller, token, listing } = await sellerAndListing();
    const kept = await createListing(token);

    const res = await api("DELETE", listingPath(listing.id), { token });
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");

    expectError(await api("GET", listingPath(listing.id)), 404, "not_found");
    expectError(await api("GET", listingPath(listing.id), { token }), 404, "not_found");
    expectError(await patch(listing.id, token, { price_cents: 100 }), 404, "not_found");
    expectError(await api("POST", `${listingPath(listing.id)}/activate`, { token }), 404, "not_found");
    expectError(await api("POST", `${listingPath(listing.id)}/deactivate`, { token }), 404, "not_found");
    expectError(await api("DELETE", listingPath(listing.id), { token }), 404, "not_found");
    expect(await listedIds(seller.username)).toEqual({ browse: [kept.id], shop: [kept.id] });
  });

  it("is for the seller only", async () => {
    const { listing } = await sellerAndListing();
    const other = await register();
    expectError(await api("DELETE", listingPath(listing.id), { token: other.auth.tokens.access_token }), 403, "forbidden");
    expectError(await api("DELETE", listingPath(listing.id)), 401, "unauthenticated");
    expectError(await api("DELETE", listingPath(kNoSuchId), { token: other.auth.tokens.access_token }), 404, "not_found");
    expect((await api("GET", listingPath(listing.id))).body).toEqual(listing);
  });
});
