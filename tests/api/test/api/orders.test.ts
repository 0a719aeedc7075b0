import { describe, expect, it } from "vitest";
import { api, type ApiResponse } from "../../lib/client.js";
import {
  createListing,
  createListings,
  expectError,
  fieldMessage,
  getCart,
  getOrder,
  idempotencyKey,
  newAddress,
  placeOrder,
  putCartItem,
  queryString,
  register,
  servedRoutes,
  type Listing,
  type ListingPage,
  type Order,
} from "../../lib/fixtures.js";

// Checkout may land after the rest of the API: these tests run as soon as the server has the
// route, and are skipped (visibly) only until then. When `marketplace routes` itself fails
// (routes.test.ts reports that), they run rather than hide.
const routesHaveOrders = await servedRoutes().then(
  (routes) => routes.has("POST /api/v1/orders"),
  () => true,
);
const describeOrders = describe.skipIf(!routesHaveOrders);

const kOrdersPath = "/api/v1/orders";
const kNoSuchId = 999_999_999_999;
const kPaymentWindowMs = 15 * 60 * 1000;

// ---- What every order must satisfy ----

function consistent(order: Order): Order {
  const text = JSON.stringify(order).slice(0, 2000);
  expect(order.currency, text).toBe("USD");
  expect(order.items.length, text).toBeGreaterThan(0);
  for (const item of order.items) {
    expect(item.currency, text).toBe(order.currency);
    expect(item.line_total_cents, text).toBe(item.unit_price_cents * item.quantity);
    expect(item.status, text).toBe("pending_payment");
  }
  const ids = order.items.map((item) => item.listing_id);
  expect(ids, `items not by listing_id: ${text}`).toEqual([...ids].sort((a, b) => a - b));
  const window = Date.parse(order.expires_at) - Date.parse(order.created_at);
  expect(Math.abs(window - kPaymentWindowMs), `expires_at is not created_at + 15 min: ${text}`).toBeLessThan(2000);
  return order;
}

// A 201 with its Location; whether it was a replay is the caller's business.
function created(res: ApiResponse<Order>): Order {
  expect(res.status, res.text).toBe(201);
  expect(res.headers.get("location")).toBe(`${kOrdersPath}/${res.body.id}`);
  return consistent(res.body);
}

function fresh(res: ApiResponse<Order>): Order {
  const order = created(res);
  expect(res.headers.get("idempotent-replayed"), res.text).toBeNull();
  expect(order.status).toBe("pending_payment");
  return order;
}

// ---- People and listings ----

async function user(display_name?: string) {
  const account = await register(display_name === undefined ? {} : { display_name });
  return { ...account, token: account.auth.tokens.access_token };
}

type User = Awaited<ReturnType<typeof user>>;

async function users(count: number, batch = 10): Promise<User[]> {
  const out: User[] = [];
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start);
    out.push(...(await Promise.all(Array.from({ length: size }, () => user()))));
  }
  return out;
}

async function put(token: string, listingId: number, quantity: number): Promise<void> {
  const res = await putCartItem(token, listingId, quantity);
  expect(res.status, res.text).toBe(200);
}

async function listing(id: number, token?: string): Promise<Listing> {
  const res = await api<Listing>("GET", `/api/v1/listings/${id}`, token === undefined ? {} : { token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

function patchListing(token: string, id: number, json: unknown): Promise<ApiResponse<Listing>> {
  return api<Listing>("PATCH", `/api/v1/listings/${id}`, { token, json });
}

async function changed(res: Promise<ApiResponse<Listing>>): Promise<Listing> {
  const answer = await res;
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

// A seller, a buyer, and a listing of the seller's in the buyer's cart.
async function buyerWithCart(listingOverrides: Parameters<typeof createListing>[1] = {}, quantity = 1) {
  const [seller, buyer] = await Promise.all([user(), user()]);
  const item = await createListing(seller.token, listingOverrides);
  await put(buyer.token, item.id, quantity);
  return { seller, buyer, item };
}

// ---- Tests ----

describeOrders("orders need a signed-in user", () => {
  it("answers 401 without a token", async () => {
    const post = await api("POST", kOrdersPath, {
      json: { shipping_address: newAddress() },
      headers: { "idempotency-key": idempotencyKey() },
    });
    expectError(post, 401, "unauthenticated");
    expect(post.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expectError(await getOrder(undefined, 1), 401, "unauthenticated");
    expectError(await getOrder("not-a-jwt", 1), 401, "invalid_token");
  });
});

describeOrders("checkout", () => {
  it("turns a cart with two sellers into one order at the listings' prices, and empties the cart", async () => {
    const [alice, bob, buyer] = await Promise.all([user("Alice Seller"), user("Bob Seller"), user()]);
    const lamp = await createListing(alice.token, { title: "Brass lamp", price_cents: 1500, quantity: 3 });
    const chair = await createListing(bob.token, { title: "Oak chair", price_cents: 2500, quantity: 4 });
    await put(buyer.token, chair.id, 1);
    await put(buyer.token, lamp.id, 2);

    const order = fresh(
      await placeOrder(buyer.token, {
        address: {
          recipient_name: "  Grace Hopper  ",
          line1: "1 Navy Way",
          city: "Arlington",
          country: "us",
          phone: "+14155550123",
        },
      }),
    );
    expect(order.total_cents).toBe(2 * 1500 + 2500);
    expect(order.shipping_address).toEqual({
      recipient_name: "Grace Hopper",
      line1: "1 Navy Way",
      line2: "",
      city: "Arlington",
      region: "",
      postal_code: "",
      country: "US",
      phone: "+14155550123",
    });
    const byListing = new Map(order.items.map((item) => [item.listing_id, item]));
    expect([...byListing.keys()].sort((a, b) => a - b)).toEqual([lamp.id, chair.id].sort((a, b) => a - b));
    expect(byListing.get(lamp.id)).toMatchObject({
      title: "Brass lamp",
      unit_price_cents: 1500,
      quantity: 2,
      line_total_cents: 3000,
      image_url: null,
      seller: { username: alice.username, display_name: "Alice Seller" },
    });
    expect(byListing.get(chair.id)).toMatchObject({
      title: "Oak chair",
      unit_price_cents: 2500,
      quantity: 1,
      line_total_cents: 2500,
      seller: { username: bob.username, display_name: "Bob Seller" },
    });
    expect(Math.abs(Date.parse(order.created_at) - Date.now())).toBeLessThan(60_000);

    const cart = await getCart(buyer.token);
    expect(cart.lines).toEqual([]);
    expect(cart.total_cents).toBe(0);

    // Reserved: available drops, quantity stays.
    const [lampNow, chairNow] = await Promise.all([listing(lamp.id), listing(chair.id)]);
    expect([lampNow.quantity, lampNow.available]).toEqual([3, 1]);
    expect([chairNow.quantity, chairNow.available]).toEqual([4, 3]);

    // The buyer reads it back unchanged.
    const back = await getOrder(buyer.token, order.id);
    expect(back.status, back.text).toBe(200);
    expect(back.body).toEqual(order);
  });

  it("charges the price at checkout, not the one when the line was put", async () => {
    const { seller, buyer, item } = await buyerWithCart({ price_cents: 1000 }, 2);
    await changed(patchListing(seller.token, item.id, { price_cents: 1200 }));
    const order = fresh(await placeOrder(buyer.token));
    expect(order.items[0]!.unit_price_cents).toBe(1200);
    expect(order.total_cents).toBe(2400);
  });

  it("keeps its snapshot when the listing changes later", async () => {
    const { seller, buyer, item } = await buyerWithCart({ title: "Original title", price_cents: 1000 });
    const order = fresh(await placeOrder(buyer.token));
    await changed(patchListing(seller.token, item.id, { title: "A new title", price_cents: 9999 }));
    const res = await getOrder(buyer.token, order.id);
    expect(res.status, res.text).toBe(200);
    expect(res.body.items[0]).toMatchObject({ title: "Original title", unit_price_cents: 1000, line_total_cents: 1000 });
    expect(res.body.total_cents).toBe(1000);
    expect(res.body).toEqual(order);
  });

  it("reserves stock: browse in_stock and other carts follow", async () => {
    const [seller, buyer, other] = await Promise.all([user(), user(), user()]);
    const item = await createListing(seller.token, { quantity: 1 });
    await put(buyer.token, item.id, 1);
    await put(other.token, item.id, 1);
    const inStock = async () => {
      const res = await api<ListingPage>(
        "GET",
        "/api/v1/listings" + queryString({ seller: seller.username, in_stock: true }),
      );
      expect(res.status, res.text).toBe(200);
      return res.body.items.map((summary) => summary.id);
    };
    expect(await inStock()).toEqual([item.id]);

    fresh(await placeOrder(buyer.token));
    expect(await inStock()).toEqual([]);
    const seen = await listing(item.id);
    expect([seen.quantity, seen.available]).toEqual([1, 0]);
    const line = (await getCart(other.token)).lines.find((l) => l.listing_id === item.id);
    expect(line?.available).toBe(0);
    expect(line?.problems).toContain("exceeds_available");
    expect(line?.purchasable).toBe(false);
  });

  it("refuses an empty cart: 422 with field cart", async () => {
    const buyer = await user();
    expectError(await placeOrder(buyer.token), 422, "validation_failed", ["cart"]);
  });

  it("refuses 409 naming each line that cannot be bought, and orders nothing", async () => {
    const [seller, first, second] = await Promise.all([user(), user(), user()]);
    const scarce = await createListing(seller.token, { quantity: 3 });
    const gone = await createListing(seller.token, { quantity: 5 });
    const fine = await createListing(seller.token, { quantity: 5 });
    await put(first.token, scarce.id, 2);
    await put(second.token, scarce.id, 2);
    await put(second.token, gone.id, 1);
    await put(second.token, fine.id, 1);
    fresh(await placeOrder(first.token));
    await changed(api("POST", `/api/v1/listings/${gone.id}/deactivate`, { token: seller.token }));

    const body = expectError(await placeOrder(second.token), 409, "conflict", [`cart.${scarce.id}`, `cart.${gone.id}`]);
    expect(fieldMessage(body, `cart.${scarce.id}`)).toBe("only 1 available");

    // Nothing was ordered and the cart is as it was.
    expect((await listing(fine.id)).available).toBe(5);
    expect((await listing(scarce.id)).available).toBe(1);
    expect((await getCart(second.token)).lines.map((l) => l.listing_id).sort()).toEqual(
      [scarce.id, gone.id, fine.id].sort(),
    );
  });

  it("names a deleted listing in the cart", async () => {
    const { seller, buyer, item } = await buyerWithCart();
    const res = await api("DELETE", `/api/v1/listings/${item.id}`, { token: seller.token });
    expect(res.status, res.text).toBe(204);
    expectError(await placeOrder(buyer.token), 409, "conflict", [`cart.${item.id}`]);
  });

  it("takes a listing's whole stock", async () => {
    const { buyer, item } = await buyerWithCart({ quantity: 2 }, 2);
    fresh(await placeOrder(buyer.token));
    const seen = await listing(item.id);
    expect([seen.quantity, seen.available]).toEqual([2, 0]);
  });

  it("allows at most 5 unpaid orders per buyer", async () => {
    const [seller, buyer] = await Promise.all([user(), user()]);
    const items = await createListings(seller.token, 6);
    for (const item of items.slice(0, 5)) {
      await put(buyer.token, item.id, 1);
      fresh(await placeOrder(buyer.token));
    }
    await put(buyer.token, items[5]!.id, 1);
    expectError(await placeOrder(buyer.token), 409, "conflict");
    expect((await listing(items[5]!.id)).available).toBe(3);
    expect((await getCart(buyer.token)).lines.length).toBe(1);
  });
});

describeOrders("the Idempotency-Key", () => {
  it("replays the same order for the same key and body", async () => {
    const { buyer, item } = await buyerWithCart({ quantity: 3 }, 2);
    const key = idempotencyKey();
    const address = newAddress({ postal_code: "SW1Y 4JH" });
    const first = fresh(await placeOrder(buyer.token, { key, address }));

    // The cart is empty now, yet the retry is answered with the order, not a 422.
    const again = await placeOrder(buyer.token, { key, address });
    const replayed = created(again);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(replayed).toEqual(first);

    // Only one order: the stock was reserved once.
    const seen = await listing(item.id);
    expect([seen.quantity, seen.available]).toEqual([3, 1]);
  });

  it("answers 422 when the key was used with another body", async () => {
    const { buyer } = await buyerWithCart({ quantity: 3 }, 1);
    const key = idempotencyKey();
    fresh(await placeOrder(buyer.token, { key, address: newAddress({ city: "London" }) }));
    expectError(await placeOrder(buyer.token, { key, address: newAddress({ city: "Paris" }) }), 422, "validation_failed");
  });

  it("keys are per buyer: another buyer's same key places their own order", async () => {
    const [seller, one, two] = await Promise.all([user(), user(), user()]);
    const item = await createListing(seller.token, { quantity: 5 });
    await Promise.all([put(one.token, item.id, 1), put(two.token, item.id, 1)]);
    const key = idempotencyKey();
    const a = fresh(await placeOrder(one.token, { key }));
    const b = fresh(await placeOrder(two.token, { key }));
    expect(a.id).not.toBe(b.id);
    expect((await listing(item.id)).available).toBe(3);
  });

  it("places one order for 10 concurrent requests with one key", async () => {
    const { buyer, item } = await buyerWithCart({ quantity: 5 }, 2);
    const key = idempotencyKey();
    const address = newAddress();
    const answers = await Promise.all(Array.from({ length: 10 }, () => placeOrder(buyer.token, { key, address })));
    const ok = answers.filter((res) => res.status === 201);
    expect(answers.map((res) => res.status), answers.map((res) => res.text).join("\n")).toEqual(Array(10).fill(201));
    expect(new Set(ok.map((res) => res.body.id)).size).toBe(1);
    expect(ok.filter((res) => res.headers.get("idempotent-replayed") === null).length).toBe(1);
    expect(ok.filter((res) => res.headers.get("idempotent-replayed") === "true").length).toBe(9);
    const seen = await listing(item.id);
    expect([seen.quantity, seen.available]).toEqual([5, 3]);
  });

  it.each([
    ["missing", null],
    ["empty", ""],
    ["with a space inside", "a b"],
    ["longer than 255 characters", "k".repeat(256)],
  ])("answers 400 bad_request when the key is %s", async (_name, key) => {
    const { buyer, item } = await buyerWithCart();
    expectError(await placeOrder(buyer.token, { key }), 400, "bad_request");
    expect((await getCart(buyer.token)).lines.map((l) => l.listing_id)).toEqual([item.id]);
  });

  it("accepts a key of 255 visible characters", async () => {
    const { buyer } = await buyerWithCart();
    fresh(await placeOrder(buyer.token, { key: "~!".repeat(127) + "z" }));
  });
});

describeOrders("the shipping address", () => {
  const field = (name: string) => `shipping_address.${name}`;
  const without = (name: string) => {
    const address: Record<string, unknown> = newAddress();
    delete address[name];
    return address;
  };

  it.each([
    ["recipient_name", without("recipient_name")],
    ["recipient_name", newAddress({ recipient_name: "" })],
    ["recipient_name", newAddress({ recipient_name: "   " })],
    ["recipient_name", newAddress({ recipient_name: "n".repeat(101) })],
    ["recipient_name", { ...newAddress(), recipient_name: 5 }],
    ["recipient_name", newAddress({ recipient_name: "two\nlines" })],
    ["line1", without("line1")],
    ["line1", newAddress({ line1: "l".repeat(201) })],
    ["line2", newAddress({ line2: "l".repeat(201) })],
    ["city", without("city")],
    ["city", newAddress({ city: "c".repeat(101) })],
    ["region", newAddress({ region: "r".repeat(101) })],
    ["postal_code", newAddress({ postal_code: "1".repeat(21) })],
    ["country", without("country")],
    ["country", newAddress({ country: "GBR" })],
    ["country", newAddress({ country: "G1" })],
    ["country", newAddress({ country: "" })],
    ["phone", newAddress({ phone: "14155550123" })],
    ["phone", newAddress({ phone: "+1 415 555 0123" })],
    ["phone", newAddress({ phone: "+12" })],
    ["unknown", { ...newAddress(), unknown: "x" }],
  ])("answers 422 naming shipping_address.%s", async (name, address) => {
    const buyer = await user();
    expectError(await placeOrder(buyer.token, { address }), 422, "validation_failed", [field(name)]);
  });

  it("answers 422 for a missing address, an address that is not an object, and unknown properties", async () => {
    const buyer = await user();
    expectError(await placeOrder(buyer.token, { json: {} }), 422, "validation_failed", ["shipping_address"]);
    expectError(await placeOrder(buyer.token, { json: { shipping_address: "here" } }), 422, "validation_failed", [
      "shipping_address",
    ]);
    expectError(
      await placeOrder(buyer.token, { json: { shipping_address: newAddress(), total_cents: 1 } }),
      422,
      "validation_failed",
      ["total_cents"],
    );
  });

  it("answers 400 invalid_json for a body that is not JSON", async () => {
    const buyer = await user();
    const res = await api("POST", kOrdersPath, {
      token: buyer.token,
      body: "{not json",
      headers: { "idempotency-key": idempotencyKey() },
    });
    expectError(res, 400, "invalid_json");
  });

  it("accepts the longest free-text values and stores every field", async () => {
    const { buyer } = await buyerWithCart();
    // The city and postal code are checked by the geocoder, so they must be real ones; their
    // own length limits are proven by the 422 cases above.
    const address = {
      recipient_name: "n".repeat(100),
      line1: "l".repeat(200),
      line2: "m".repeat(200),
      city: "Berlin",
      region: "r".repeat(100),
      postal_code: "10115",
      country: "de",
      phone: "+491701234567",
    };
    const order = fresh(await placeOrder(buyer.token, { address }));
    expect(order.shipping_address).toEqual({ ...address, country: "DE" });
  });

  it("checks an address written at checkout like the address book: a made-up city or a bad postal code is refused", async () => {
    const { buyer, item } = await buyerWithCart();
    expectError(
      await placeOrder(buyer.token, { address: newAddress({ city: "Qwzxvillebury" }) }),
      422,
      "validation_failed",
      [field("city")],
    );
    expectError(
      await placeOrder(buyer.token, { address: newAddress({ city: "Berlin", postal_code: "ABC", country: "DE" }) }),
      422,
      "validation_failed",
      [field("postal_code")],
    );
    expectError(
      await placeOrder(buyer.token, { address: newAddress({ city: "Paris", country: "BR" }) }),
      422,
      "validation_failed",
      [field("city")],
    );
    // Nothing was reserved by the refusals, and the cart is still there.
    expect((await listing(item.id)).available).toBe(item.quantity);
    fresh(await placeOrder(buyer.token));
  });

  it("keeps the normalised spelling of the city written at checkout", async () => {
    const { buyer } = await buyerWithCart();
    const order = fresh(
      await placeOrder(buyer.token, {
        address: newAddress({ city: "sao paolo", postal_code: "01310-100", country: "BR" }),
      }),
    );
    expect(order.shipping_address).toMatchObject({ city: "São Paulo", postal_code: "01310-100", country: "BR" });
  });
});

describeOrders("reservations and the seller", () => {
  it("refuses to lower quantity below what pending orders reserve", async () => {
    const { seller, buyer, item } = await buyerWithCart({ quantity: 5 }, 3);
    fresh(await placeOrder(buyer.token));
    expectError(await patchListing(seller.token, item.id, { quantity: 2 }), 409, "conflict", ["quantity"]);
    expect((await listing(item.id)).quantity).toBe(5);
    const lowered = await changed(patchListing(seller.token, item.id, { quantity: 3 }));
    expect([lowered.quantity, lowered.available]).toEqual([3, 0]);
    const raised = await changed(patchListing(seller.token, item.id, { quantity: 10 }));
    expect([raised.quantity, raised.available]).toEqual([10, 7]);
  });
});

describeOrders("reading an order", () => {
  it("shows the buyer everything, a seller only their items, and nobody else anything", async () => {
    const [alice, bob, buyer, stranger] = await Promise.all([user(), user(), user(), user()]);
    const [lamp, chair] = await Promise.all([
      createListing(alice.token, { price_cents: 1500 }),
      createListing(bob.token, { price_cents: 2500 }),
    ]);
    await put(buyer.token, lamp.id, 1);
    await put(buyer.token, chair.id, 2);
    const order = fresh(await placeOrder(buyer.token));

    const asBuyer = await getOrder(buyer.token, order.id);
    expect(asBuyer.status, asBuyer.text).toBe(200);
    expect(asBuyer.body.items.map((i) => i.listing_id).sort()).toEqual([lamp.id, chair.id].sort());

    for (const [seller, own] of [
      [alice, lamp],
      [bob, chair],
    ] as const) {
      const res = await getOrder(seller.token, order.id);
      expect(res.status, res.text).toBe(200);
      expect(res.body.id).toBe(order.id);
      expect(res.body.items.map((i) => i.listing_id)).toEqual([own.id]);
      expect(res.body.items.every((i) => i.seller.username === seller.username)).toBe(true);
      expect(res.body.shipping_address).toEqual(order.shipping_address);
    }

    expectError(await getOrder(stranger.token, order.id), 404, "not_found");
    expectError(await getOrder(undefined, order.id), 401, "unauthenticated");
  });

  it.each([["abc"], ["0"], ["-1"], ["1.5"], [String(kNoSuchId)]])("answers 404 for id %s", async (id) => {
    const buyer = await user();
    expectError(await getOrder(buyer.token, id), 404, "not_found");
  });
});

describeOrders("a flash sale over HTTP", () => {
  it("sells 5 to 30 buyers checking out at once: 5 orders, 25 refusals, nothing left", async () => {
    const seller = await user();
    const item = await createListing(seller.token, { quantity: 5, price_cents: 500 });
    const buyers = await users(30);
    for (let start = 0; start < buyers.length; start += 10) {
      await Promise.all(buyers.slice(start, start + 10).map((buyer) => put(buyer.token, item.id, 1)));
    }

    const answers = await Promise.all(buyers.map((buyer) => placeOrder(buyer.token)));
    const statuses = answers.map((res) => res.status);
    const texts = answers.map((res) => `${res.status} ${res.text.slice(0, 300)}`).join("\n");
    expect(statuses.filter((s) => s === 201).length, texts).toBe(5);
    expect(statuses.filter((s) => s === 409).length, texts).toBe(25);
    for (const res of answers) {
      if (res.status === 201) {
        const order = fresh(res);
        expect(order.total_cents).toBe(500);
      } else {
        const body = expectError(res, 409, "conflict", [`cart.${item.id}`]);
        expect(fieldMessage(body, `cart.${item.id}`)).toBe("only 0 available");
      }
    }
    expect(new Set(answers.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(5);
    const seen = await listing(item.id);
    expect([seen.quantity, seen.available]).toEqual([5, 0]);
  });
});
