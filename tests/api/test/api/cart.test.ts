import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { api, type ApiResponse } from "../../lib/client.js";
import {
  cartItemPath,
  createListing,
  createListings,
  expectError,
  fieldMessage,
  getCart,
  kCartMaxLines,
  putCartItem,
  register,
  servedRoutes,
  type Cart,
  type CartLine,
  type Listing,
} from "../../lib/fixtures.js";
import { repoRoot } from "../../lib/server.js";

// The cart may land after the rest of the API: these tests run as soon as the server has its
// routes, and are skipped (visibly) only until then. When `marketplace routes` itself fails
// (routes.test.ts reports that), they run rather than hide.
const routesHaveCart = await servedRoutes().then(
  (routes) => routes.has("GET /api/v1/cart"),
  () => true,
);
const describeCart = describe.skipIf(!routesHaveCart);

const kNoSuchId = 999_999_999_999;
const kCartPath = "/api/v1/cart";

// ---- What every cart must satisfy, whatever is in it ----

// An instant that keeps sub-millisecond digits: [milliseconds of the whole seconds, fraction].
function instant(text: string): [number, string] {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(text);
  expect(match, `not an RFC 3339 date-time: ${text}`).not.toBeNull();
  return [Date.parse(match![1]! + match![3]!), (match![2] ?? "").padEnd(9, "0")];
}

function compareLines(a: CartLine, b: CartLine): number {
  const [aMs, aFraction] = instant(a.added_at);
  const [bMs, bFraction] = instant(b.added_at);
  if (aMs !== bMs) return aMs - bMs;
  if (aFraction !== bFraction) return aFraction < bFraction ? -1 : 1;
  return a.listing_id - b.listing_id;
}

// Checks what the cart's own numbers say about each other, and returns it.
function consistent(cart: Cart): Cart {
  const text = JSON.stringify(cart).slice(0, 2000);
  expect(cart.line_count, text).toBe(cart.lines.length);
  expect(cart.currency, text).toBe("USD");
  let total = 0;
  for (const line of cart.lines) {
    const where = `line ${line.listing_id}: ${JSON.stringify(line)}`;
    expect(line.currency, where).toBe(cart.currency);
    expect(line.line_total_cents, where).toBe(line.unit_price_cents * line.quantity);
    expect(line.problems.includes("price_changed"), where).toBe(line.unit_price_cents !== line.price_when_added_cents);
    expect(line.problems.includes("exceeds_available"), where).toBe(line.quantity > line.available);
    expect(line.purchasable, where).toBe(!line.problems.includes("not_for_sale") && !line.problems.includes("exceeds_available"));
    total += line.line_total_cents;
  }
  expect(cart.total_cents, text).toBe(total);
  expect(cart.purchasable, text).toBe(cart.lines.length > 0 && cart.lines.every((line) => line.purchasable));
  const ordered = [...cart.lines].sort(compareLines).map((line) => line.listing_id);
  expect(cart.lines.map((line) => line.listing_id), `lines not by added_at, then listing_id: ${text}`).toEqual(ordered);
  return cart;
}

function cartOf(res: ApiResponse<Cart>): Cart {
  expect(res.status, res.text).toBe(200);
  return consistent(res.body);
}

async function put(token: string, listingId: number, quantity: number): Promise<Cart> {
  return cartOf(await putCartItem(token, listingId, quantity));
}

async function cart(token: string): Promise<Cart> {
  return consistent(await getCart(token));
}

async function removeLine(token: string, listingId: number | string): Promise<Cart> {
  return cartOf(await api<Cart>("DELETE", cartItemPath(listingId), { token }));
}

function lineOf(cart: Cart, listingId: number): CartLine {
  const line = cart.lines.find((l) => l.listing_id === listingId);
  expect(line, `no line for listing ${listingId} in ${JSON.stringify(cart).slice(0, 1000)}`).toBeDefined();
  return line!;
}

function ids(cart: Cart): number[] {
  return cart.lines.map((line) => line.listing_id);
}

function sorted<T>(items: readonly T[]): T[] {
  return [...items].sort();
}

const kEmpty: Cart = { lines: [], line_count: 0, total_cents: 0, currency: "USD", purchasable: false };

// ---- People and listings ----

async function user(display_name?: string) {
  const account = await register(display_name === undefined ? {} : { display_name });
  return { ...account, token: account.auth.tokens.access_token };
}

async function buyerAndListing(overrides: Parameters<typeof createListing>[1] = {}) {
  const [seller, buyer] = await Promise.all([user(), user()]);
  const listing = await createListing(seller.token, overrides);
  return { seller, buyer, listing };
}

function patchListing(token: string, id: number, json: unknown): Promise<ApiResponse<Listing>> {
  return api<Listing>("PATCH", `/api/v1/listings/${id}`, { token, json });
}

async function changed(res: Promise<ApiResponse<Listing>>): Promise<Listing> {
  const answer = await res;
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

function fixture(name: string): Buffer {
  return readFileSync(path.join(repoRoot, "tests/api/fixtures", name));
}

// ---- Tests ----

describeCart("the cart needs a signed-in user", () => {
  it.each([
    ["GET", kCartPath, undefined],
    ["DELETE", kCartPath, undefined],
    ["PUT", cartItemPath(1), { quantity: 1 }],
    ["DELETE", cartItemPath(1), undefined],
  ])("%s %s answers 401 without a token and with a bad one", async (method, path, json) => {
    expectError(await api(method, path, { json }), 401, "unauthenticated");
    expectError(await api(method, path, { json, token: "garbage" }), 401, "invalid_token");
  });
});

describeCart("a new user's cart", () => {
  it("is empty, totals 0 and is not purchasable", async () => {
    const buyer = await user();
    expect(await cart(buyer.token)).toEqual(kEmpty);
  });
});

describeCart("putting a listing in the cart", () => {
  it("adds a line that shows the listing as it is now", async () => {
    const seller = await user("Lamp Seller");
    const buyer = await user();
    const listing = await createListing(seller.token, { title: "Brass desk lamp", price_cents: 2500, quantity: 5 });

    const answer = await put(buyer.token, listing.id, 2);
    expect(answer).toEqual({
      lines: [
        {
          listing_id: listing.id,
          title: "Brass desk lamp",
          seller: { username: seller.username, display_name: "Lamp Seller" },
          main_image: null,
          unit_price_cents: 2500,
          price_when_added_cents: 2500,
          currency: "USD",
          quantity: 2,
          available: 5,
          line_total_cents: 5000,
          purchasable: true,
          problems: [],
          added_at: expect.any(String),
        },
      ],
      line_count: 1,
      total_cents: 5000,
      currency: "USD",
      purchasable: true,
    });
    expect(Date.parse(answer.lines[0]!.added_at)).toBeGreaterThanOrEqual(Date.parse(listing.created_at));
    expect(await cart(buyer.token)).toEqual(answer);
  });

  it("shows the listing's main image", async () => {
    const { seller, buyer, listing } = await buyerAndListing();
    const images = `/api/v1/listings/${listing.id}/images`;
    for (const [name, type] of [["tiny.jpg", "image/jpeg"], ["tiny.png", "image/png"]] as const) {
      const res = await api<Listing>("POST", images, { token: seller.token, body: fixture(name), contentType: type });
      expect(res.status, res.text).toBe(201);
    }
    const withImages = await changed(
      api<Listing>("GET", `/api/v1/listings/${listing.id}`, { token: seller.token }),
    );
    const second = withImages.images[1]!;
    const now = await changed(api<Listing>("PUT", `${images}/${second.id}/main`, { token: seller.token }));

    const line = lineOf(await put(buyer.token, listing.id, 1), listing.id);
    expect(line.main_image).toEqual(now.images.find((image) => image.is_main));
    expect(line.main_image?.id).toBe(second.id);
  });

  it("replaces the quantity when the listing is put again, and the line keeps its place", async () => {
    const seller = await user();
    const buyer = await user();
    const [first, other] = await createListings(seller.token, 2, { quantity: 10 });
    const before = await put(buyer.token, first!.id, 2);
    await put(buyer.token, other!.id, 1);

    const again = await put(buyer.token, first!.id, 3);
    expect(again.line_count).toBe(2);
    expect(ids(again)).toEqual([first!.id, other!.id]);
    expect(lineOf(again, first!.id)).toMatchObject({ quantity: 3, line_total_cents: 3 * first!.price_cents });
    expect(lineOf(again, first!.id).added_at).toBe(before.lines[0]!.added_at);

    const down = await put(buyer.token, first!.id, 1);
    expect(lineOf(down, first!.id).quantity).toBe(1);
    expect(await cart(buyer.token)).toEqual(down);
  });

  it("holds listings of several sellers, in the order they were added, and totals them", async () => {
    const [alice, bob, buyer] = await Promise.all([user("Alice"), user("Bob"), user()]);
    const fromBob = await createListing(bob.token, { price_cents: 2550, quantity: 4 });
    const fromAlice = await createListing(alice.token, { price_cents: 1000, quantity: 9 });

    await put(buyer.token, fromAlice.id, 3);
    const both = await put(buyer.token, fromBob.id, 2);
    expect(ids(both)).toEqual([fromAlice.id, fromBob.id]);
    expect(both.lines.map((line) => line.seller)).toEqual([
      { username: alice.username, display_name: "Alice" },
      { username: bob.username, display_name: "Bob" },
    ]);
    expect(both.lines.map((line) => line.line_total_cents)).toEqual([3000, 5100]);
    expect(both).toMatchObject({ line_count: 2, total_cents: 8100, purchasable: true });
  });

  it("accepts 1, 99 and exactly what is available", async () => {
    const seller = await user();
    const buyer = await user();
    const [plenty, few] = await Promise.all([
      createListing(seller.token, { quantity: 1_000 }),
      createListing(seller.token, { quantity: 4 }),
    ]);
    expect(lineOf(await put(buyer.token, plenty.id, 1), plenty.id).quantity).toBe(1);
    expect(lineOf(await put(buyer.token, plenty.id, 99), plenty.id).quantity).toBe(99);
    expect(lineOf(await put(buyer.token, few.id, 4), few.id)).toMatchObject({ quantity: 4, available: 4, purchasable: true });
  });

  it.each([
    ["a quantity of 0", { quantity: 0 }, "quantity"],
    ["a negative quantity", { quantity: -1 }, "quantity"],
    ["a quantity of 100", { quantity: 100 }, "quantity"],
    ["a quantity of 2.5", { quantity: 2.5 }, "quantity"],
    ['a quantity of "2"', { quantity: "2" }, "quantity"],
    ["a null quantity", { quantity: null }, "quantity"],
    ["a boolean quantity", { quantity: true }, "quantity"],
    ["no quantity", {}, "quantity"],
    ["an unknown field", { quantity: 1, colour: "red" }, "colour"],
  ])("refuses %s with 422 naming the field, and changes nothing", async (_, json, field) => {
    const { buyer, listing } = await buyerAndListing({ quantity: 1_000 });
    const res = await api("PUT", cartItemPath(listing.id), { token: buyer.token, json });
    expectError(res, 422, "validation_failed", [field]);
    expect(await cart(buyer.token)).toEqual(kEmpty);
  });

  it("refuses a body that is not a JSON object", async () => {
    const { buyer, listing } = await buyerAndListing();
    const path = cartItemPath(listing.id);
    expectError(await api("PUT", path, { token: buyer.token, body: '{"quantity": 1,' }), 400, "invalid_json");
    expectError(await api("PUT", path, { token: buyer.token, body: "[1]" }), 400, "invalid_json");
    expectError(
      await api("PUT", path, { token: buyer.token, body: '{"quantity": 1}', contentType: "text/plain" }),
      415,
      "unsupported_media_type",
    );
    expect(await cart(buyer.token)).toEqual(kEmpty);
  });

  it("refuses the caller's own listing with 403", async () => {
    const seller = await user();
    const listing = await createListing(seller.token);
    expectError(await putCartItem(seller.token, listing.id, 1), 403, "forbidden");
    expect(await cart(seller.token)).toEqual(kEmpty);
  });

  it("answers 404 for a listing that does not exist or was deleted", async () => {
    const { seller, buyer, listing } = await buyerAndListing();
    expectError(await putCartItem(buyer.token, kNoSuchId, 1), 404, "not_found");
    expect((await api("DELETE", `/api/v1/listings/${listing.id}`, { token: seller.token })).status).toBe(204);
    expectError(await putCartItem(buyer.token, listing.id, 1), 404, "not_found");
    expect(await cart(buyer.token)).toEqual(kEmpty);
  });

  it.each(["abc", "0", "-1", "1.5", "1e3", "99999999999999999999999"])("answers 404 for the listing id %s", async (id) => {
    const buyer = await user();
    expectError(await putCartItem(buyer.token, id, 1), 404, "not_found");
  });

  it("refuses an inactive listing with 409: it is not for sale", async () => {
    const { seller, buyer, listing } = await buyerAndListing();
    await changed(api<Listing>("POST", `/api/v1/listings/${listing.id}/deactivate`, { token: seller.token }));
    const body = expectError(await putCartItem(buyer.token, listing.id, 1), 409, "conflict");
    expect(body.error.message).toMatch(/not for sale/i);
    expect(await cart(buyer.token)).toEqual(kEmpty);
  });

  it("refuses more than is available with 409 naming quantity and how many are available", async () => {
    const seller = await user();
    const buyer = await user();
    const [seven, none] = await Promise.all([
      createListing(seller.token, { quantity: 7 }),
      createListing(seller.token, { quantity: 0 }),
    ]);
    const tooMany = expectError(await putCartItem(buyer.token, seven.id, 8), 409, "conflict", ["quantity"]);
    expect(fieldMessage(tooMany, "quantity")).toMatch(/\b7\b/);
    const soldOut = expectError(await putCartItem(buyer.token, none.id, 1), 409, "conflict", ["quantity"]);
    expect(fieldMessage(soldOut, "quantity")).toMatch(/\b0\b/);
    expect(await cart(buyer.token)).toEqual(kEmpty);

    // Nor may a line already in the cart be raised above it.
    await put(buyer.token, seven.id, 7);
    expectError(await putCartItem(buyer.token, seven.id, 8), 409, "conflict", ["quantity"]);
    expect(lineOf(await cart(buyer.token), seven.id).quantity).toBe(7);
  });
});

describeCart("when the listing changes after it is in the cart", () => {
  it("a lower price shows as price_changed with the new price; the line stays purchasable", async () => {
    const { seller, buyer, listing } = await buyerAndListing({ price_cents: 2000, quantity: 5 });
    await put(buyer.token, listing.id, 2);
    await changed(patchListing(seller.token, listing.id, { price_cents: 1500 }));

    const now = await cart(buyer.token);
    expect(lineOf(now, listing.id)).toMatchObject({
      unit_price_cents: 1500,
      price_when_added_cents: 2000,
      line_total_cents: 3000,
      problems: ["price_changed"],
      purchasable: true,
    });
    expect(now).toMatchObject({ total_cents: 3000, purchasable: true });

    // Setting the line again takes the new price as the one agreed to.
    const again = await put(buyer.token, listing.id, 2);
    expect(lineOf(again, listing.id)).toMatchObject({
      unit_price_cents: 1500,
      price_when_added_cents: 1500,
      problems: [],
      purchasable: true,
    });
  });

  it("a higher price shows as price_changed too", async () => {
    const { seller, buyer, listing } = await buyerAndListing({ price_cents: 2000, quantity: 5 });
    await put(buyer.token, listing.id, 1);
    await changed(patchListing(seller.token, listing.id, { price_cents: 2600 }));
    expect(lineOf(await cart(buyer.token), listing.id)).toMatchObject({
      unit_price_cents: 2600,
      price_when_added_cents: 2000,
      problems: ["price_changed"],
      purchasable: true,
    });
  });

  it("deactivated: not_for_sale, and the cart is not purchasable until it is active again", async () => {
    const seller = await user();
    const buyer = await user();
    const [offSale, fine] = await createListings(seller.token, 2);
    await put(buyer.token, offSale!.id, 1);
    await put(buyer.token, fine!.id, 1);
    const deactivate = `/api/v1/listings/${offSale!.id}/deactivate`;
    await changed(api<Listing>("POST", deactivate, { token: seller.token }));

    const now = await cart(buyer.token);
    expect(lineOf(now, offSale!.id)).toMatchObject({ problems: ["not_for_sale"], purchasable: false });
    expect(lineOf(now, fine!.id)).toMatchObject({ problems: [], purchasable: true });
    expect(now).toMatchObject({ line_count: 2, purchasable: false });
    expectError(await putCartItem(buyer.token, offSale!.id, 1), 409, "conflict");

    await changed(api<Listing>("POST", `/api/v1/listings/${offSale!.id}/activate`, { token: seller.token }));
    const back = await cart(buyer.token);
    expect(lineOf(back, offSale!.id)).toMatchObject({ problems: [], purchasable: true });
    expect(back.purchasable).toBe(true);
  });

  it("deleted: the line stays, not_for_sale, until it is removed", async () => {
    const { seller, buyer, listing } = await buyerAndListing();
    await put(buyer.token, listing.id, 1);
    expect((await api("DELETE", `/api/v1/listings/${listing.id}`, { token: seller.token })).status).toBe(204);

    const now = await cart(buyer.token);
    expect(lineOf(now, listing.id)).toMatchObject({ title: listing.title, problems: ["not_for_sale"], purchasable: false });
    expect(now.purchasable).toBe(false);
    expectError(await putCartItem(buyer.token, listing.id, 1), 404, "not_found");

    expect(await removeLine(buyer.token, listing.id)).toEqual(kEmpty);
  });

  it("fewer available than the line's quantity: exceeds_available, not purchasable, until the line is lowered", async () => {
    const { seller, buyer, listing } = await buyerAndListing({ quantity: 5 });
    await put(buyer.token, listing.id, 3);
    await changed(patchListing(seller.token, listing.id, { quantity: 2 }));

    const now = await cart(buyer.token);
    expect(lineOf(now, listing.id)).toMatchObject({
      quantity: 3,
      available: 2,
      problems: ["exceeds_available"],
      purchasable: false,
    });
    expect(now.purchasable).toBe(false);

    const lowered = await put(buyer.token, listing.id, 2);
    expect(lineOf(lowered, listing.id)).toMatchObject({ quantity: 2, available: 2, problems: [], purchasable: true });
    expect(lowered.purchasable).toBe(true);
  });

  it("shows every problem at once", async () => {
    const { seller, buyer, listing } = await buyerAndListing({ price_cents: 2000, quantity: 5 });
    await put(buyer.token, listing.id, 4);
    await changed(patchListing(seller.token, listing.id, { price_cents: 1800, quantity: 1 }));
    await changed(api<Listing>("POST", `/api/v1/listings/${listing.id}/deactivate`, { token: seller.token }));
    const line = lineOf(await cart(buyer.token), listing.id);
    expect(sorted(line.problems)).toEqual(["exceeds_available", "not_for_sale", "price_changed"]);
    expect(line.purchasable).toBe(false);
  });
});

describeCart("taking things out", () => {
  it("DELETE of a line removes it and keeps the others", async () => {
    const seller = await user();
    const buyer = await user();
    const [a, b, c] = await createListings(seller.token, 3, { price_cents: 100 });
    for (const listing of [a!, b!, c!]) await put(buyer.token, listing.id, 2);

    const after = await removeLine(buyer.token, b!.id);
    expect(ids(after)).toEqual([a!.id, c!.id]);
    expect(after.total_cents).toBe(400);
    expect(await cart(buyer.token)).toEqual(after);
  });

  it("DELETE of a line that is not there answers 200 with the cart unchanged", async () => {
    const seller = await user();
    const buyer = await user();
    const [inCart, notInCart] = await createListings(seller.token, 2);
    const before = await put(buyer.token, inCart!.id, 1);
    expect(await removeLine(buyer.token, notInCart!.id)).toEqual(before);
    expect(await removeLine(buyer.token, kNoSuchId)).toEqual(before);
    expect(await removeLine(buyer.token, inCart!.id)).toEqual(kEmpty);
    expect(await removeLine(buyer.token, inCart!.id)).toEqual(kEmpty);
  });

  it.each(["abc", "0", "-1", "1.5"])("DELETE of the listing id %s answers 404", async (id) => {
    const buyer = await user();
    expectError(await api("DELETE", cartItemPath(id), { token: buyer.token }), 404, "not_found");
  });

  it("DELETE of the cart answers 204 and leaves it empty; again too", async () => {
    const seller = await user();
    const buyer = await user();
    const listings = await createListings(seller.token, 3);
    for (const listing of listings) await put(buyer.token, listing.id, 1);

    const res = await api("DELETE", kCartPath, { token: buyer.token });
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");
    expect(await cart(buyer.token)).toEqual(kEmpty);
    expect((await api("DELETE", kCartPath, { token: buyer.token })).status).toBe(204);

    // The cart is usable again at once.
    expect((await put(buyer.token, listings[0]!.id, 1)).line_count).toBe(1);
  });
});

describeCart("at most 50 lines", () => {
  it("refuses a 51st listing with 409, but still lets a line in the cart change", async () => {
    const seller = await user();
    const buyer = await user();
    const listings = await createListings(seller.token, kCartMaxLines + 1, { quantity: 10 });
    for (const listing of listings.slice(0, kCartMaxLines)) await put(buyer.token, listing.id, 1);
    const last = listings[kCartMaxLines]!;

    expectError(await putCartItem(buyer.token, last.id, 1), 409, "conflict");
    const full = await cart(buyer.token);
    expect(full.line_count).toBe(kCartMaxLines);
    expect(ids(full)).not.toContain(last.id);

    const changedLine = await put(buyer.token, listings[0]!.id, 5);
    expect(changedLine.line_count).toBe(kCartMaxLines);
    expect(lineOf(changedLine, listings[0]!.id).quantity).toBe(5);

    await removeLine(buyer.token, listings[1]!.id);
    const fits = await put(buyer.token, last.id, 1);
    expect(fits.line_count).toBe(kCartMaxLines);
    expect(ids(fits).at(-1)).toBe(last.id);
  });

  it("of 10 concurrent new lines into a cart of 45, exactly 5 get in", async () => {
    const seller = await user();
    const buyer = await user();
    const listings = await createListings(seller.token, 55, { quantity: 10 });
    const first = listings.slice(0, 45);
    const racing = listings.slice(45);
    for (const listing of first) await put(buyer.token, listing.id, 1);

    const answers = await Promise.all(racing.map((listing) => putCartItem(buyer.token, listing.id, 1)));
    const report = answers.map((res) => `${res.status} ${res.text.slice(0, 160)}`).join("\n");
    const won = racing.filter((_, i) => answers[i]!.status === 200).map((listing) => listing.id);
    expect(won, report).toHaveLength(5);
    for (const res of answers) {
      if (res.status === 200) consistent(res.body);
      else expectError(res, 409, "conflict");
    }

    const final = await cart(buyer.token);
    expect(final.line_count).toBe(kCartMaxLines);
    expect(sorted(ids(final))).toEqual(sorted([...first.map((listing) => listing.id), ...won]));
  });
});

describeCart("each user sees only their own cart", () => {
  it("another user's requests never show or change it", async () => {
    const seller = await user();
    const [alice, mallory] = await Promise.all([user(), user()]);
    const listing = await createListing(seller.token, { quantity: 10 });
    const alicesCart = await put(alice.token, listing.id, 3);

    expect(await cart(mallory.token)).toEqual(kEmpty);
    expect(await removeLine(mallory.token, listing.id)).toEqual(kEmpty);
    expect(await cart(alice.token)).toEqual(alicesCart);

    expect((await api("DELETE", kCartPath, { token: mallory.token })).status).toBe(204);
    expect(await cart(alice.token)).toEqual(alicesCart);

    // Both may hold the same listing, each with a quantity of their own.
    const mallorysCart = await put(mallory.token, listing.id, 1);
    expect(mallorysCart.lines.map((line) => line.quantity)).toEqual([1]);
    expect(await cart(alice.token)).toEqual(alicesCart);
  });
});
