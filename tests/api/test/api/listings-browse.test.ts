import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../../lib/client.js";
import {
  collectPages,
  createListing,
  expectError,
  queryString,
  randomWord,
  register,
  suffix,
  type Listing,
  type ListingInput,
  type ListingPage,
  type ListingSummary,
} from "../../lib/fixtures.js";

type Params = Record<string, string | number | boolean | undefined>;

const browsePath = "/api/v1/listings";
const shopPath = (username: string) => `/api/v1/users/${username}/listings`;

function browse(params: Params, path = browsePath) {
  return api<ListingPage>("GET", path + queryString(params));
}

async function browseIds(params: Params, path = browsePath): Promise<number[]> {
  const res = await browse({ limit: 100, ...params }, path);
  expect(res.status, res.text).toBe(200);
  expect(res.body.next_cursor, "fits on one page").toBeNull();
  return res.body.items.map((item) => item.id);
}

const byNewest = (a: Listing, b: Listing) => b.id - a.id;
const byPriceAsc = (a: Listing, b: Listing) => a.price_cents - b.price_cents || a.id - b.id;
const byPriceDesc = (a: Listing, b: Listing) => b.price_cents - a.price_cents || b.id - a.id;

function expectSorted(items: ListingSummary[], sort: "newest" | "price_asc" | "price_desc") {
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [items[i - 1]!, items[i]!];
    const ordered =
      sort === "newest"
        ? a.id > b.id
        : sort === "price_asc"
          ? a.price_cents < b.price_cents || (a.price_cents === b.price_cents && a.id < b.id)
          : a.price_cents > b.price_cents || (a.price_cents === b.price_cents && a.id > b.id);
    expect(ordered, `${sort}: ${JSON.stringify(a)} before ${JSON.stringify(b)}`).toBe(true);
  }
}

// One letter changed in the middle of the word.
function typo(word: string): string {
  const at = Math.floor(word.length / 2);
  const replacement = word[at] === "x" ? "y" : "x";
  return word.slice(0, at) + replacement + word.slice(at + 1);
}

describe("categories", () => {
  it("are the fixed list of 27, slugs unique", async () => {
    const res = await api<{ items: { slug: string; name: string }[] }>("GET", "/api/v1/categories");
    expect(res.status).toBe(200);
    const slugs = res.body.items.map((c) => c.slug);
    expect(slugs).toHaveLength(27);
    expect(new Set(slugs).size).toBe(27);
    expect(slugs).toEqual(expect.arrayContaining(["electronics", "books", "other"]));
  });
});

describe("browsing one seller's listings", () => {
  let username: string;
  let displayName: string;
  const byTitle = new Map<string, Listing>();
  let all: Listing[];

  const ids = (...titles: string[]) => titles.map((t) => byTitle.get(t)!.id).sort((a, b) => a - b);
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

  beforeAll(async () => {
    const seller = await register({ display_name: "Browse Shop" });
    username = seller.username;
    displayName = "Browse Shop";
    const inputs: ListingInput[] = [
      { title: "Alpha book", category: "books", condition: "new", price_cents: 1500, quantity: 2 },
      { title: "Beta book", category: "books", condition: "good", price_cents: 3000, quantity: 0 },
      { title: "Gamma phone", category: "phones", condition: "fair", price_cents: 5000, quantity: 1 },
      { title: "Delta phone", category: "phones", condition: "like_new", price_cents: 5000, quantity: 4 },
      { title: "Epsilon lamp", category: "home-garden", condition: "good", price_cents: 999, quantity: 1 },
      { title: "Zeta lamp", category: "home-garden", condition: "fair", price_cents: 12000, quantity: 0 },
      { title: "Eta misc", category: "other", condition: "new", price_cents: 1, quantity: 10 },
    ];
    // One at a time: ids (and so "newest") follow this order.
    for (const input of inputs) byTitle.set(input.title, await createListing(seller.auth.tokens.access_token, input));
    all = [...byTitle.values()];
  });

  it("shows each listing as a summary", async () => {
    const res = await browse({ seller: username, limit: 100 });
    expect(res.status).toBe(200);
    const listing = byTitle.get("Gamma phone")!;
    expect(res.body.items.find((item) => item.id === listing.id)).toEqual({
      id: listing.id,
      title: listing.title,
      price_cents: listing.price_cents,
      currency: "USD",
      available: listing.available,
      category: listing.category,
      condition: listing.condition,
      seller: { username, display_name: displayName },
      main_image: null,
      created_at: listing.created_at,
    });
  });

  it.each<[string, Params, string[]]>([
    ["category", { category: "books" }, ["Alpha book", "Beta book"]],
    ["condition", { condition: "fair" }, ["Gamma phone", "Zeta lamp"]],
    ["an inclusive price range", { min_price: 1500, max_price: 5000 }, ["Alpha book", "Beta book", "Gamma phone", "Delta phone"]],
    ["a minimum price", { min_price: 5000 }, ["Gamma phone", "Delta phone", "Zeta lamp"]],
    ["a maximum price", { max_price: 999 }, ["Epsilon lamp", "Eta misc"]],
    ["in_stock=true", { in_stock: true }, ["Alpha book", "Gamma phone", "Delta phone", "Epsilon lamp", "Eta misc"]],
    [
      "in_stock=false (no filter)",
      { in_stock: false },
      ["Alpha book", "Beta book", "Gamma phone", "Delta phone", "Epsilon lamp", "Zeta lamp", "Eta misc"],
    ],
    ["category and condition together", { category: "phones", condition: "fair" }, ["Gamma phone"]],
    ["category, price and stock together", { category: "home-garden", max_price: 20000, in_stock: true }, ["Epsilon lamp"]],
  ])("filters by %s", async (_, params, titles) => {
    expect(sorted(await browseIds({ seller: username, ...params }))).toEqual(ids(...titles));
  });

  it("matches the seller case-insensitively and finds nothing for an unknown seller", async () => {
    expect(sorted(await browseIds({ seller: username.toUpperCase() }))).toEqual(sorted(all.map((l) => l.id)));
    expect(await browseIds({ seller: `nobody_${suffix()}` })).toEqual([]);
  });

  it.each<["newest" | "price_asc" | "price_desc", (a: Listing, b: Listing) => number]>([
    ["newest", byNewest],
    ["price_asc", byPriceAsc],
    ["price_desc", byPriceDesc],
  ])("sorts by %s, on one page and across pages of 2", async (sort, compare) => {
    const expected = [...all].sort(compare).map((l) => l.id);
    expect(await browseIds({ seller: username, sort })).toEqual(expected);
    const paged = await collectPages(browsePath, { seller: username, sort, limit: 2 });
    expect(paged.items.map((l) => l.id)).toEqual(expected);
    expect(paged.pages.map((page) => page.length)).toEqual([2, 2, 2, 1]);
  });

  it("sorts by newest when no sort is given", async () => {
    expect(await browseIds({ seller: username })).toEqual([...all].sort(byNewest).map((l) => l.id));
  });

  it("answers the same on the seller's shop page, which a seller parameter does not override", async () => {
    const shop = shopPath(username);
    expect(await browseIds({}, shop)).toEqual([...all].sort(byNewest).map((l) => l.id));
    expect(await browseIds({ seller: `someone_${suffix()}` }, shop)).toEqual([...all].sort(byNewest).map((l) => l.id));
    expect(sorted(await browseIds({ category: "books" }, shop))).toEqual(ids("Alpha book", "Beta book"));
    expect(await browseIds({ sort: "price_asc" }, shopPath(username.toUpperCase()))).toEqual(
      [...all].sort(byPriceAsc).map((l) => l.id),
    );
  });
});

describe("sorting the whole catalogue", () => {
  it.each(["newest", "price_asc", "price_desc"] as const)("the first two pages by %s are in order", async (sort) => {
    const seller = await register();
    await createListing(seller.auth.tokens.access_token, { price_cents: 4321 });
    const first = await browse({ sort, limit: 50 });
    expect(first.status).toBe(200);
    expect(first.body.items.length).toBeGreaterThan(0);
    const items = [...first.body.items];
    if (first.body.next_cursor !== null) {
      const second = await browse({ sort, limit: 50, cursor: first.body.next_cursor });
      expect(second.status, second.text).toBe(200);
      items.push(...second.body.items);
    }
    expectSorted(items, sort);
  });
});

describe("pagination", () => {
  it.each(["newest", "price_asc", "price_desc"] as const)(
    "with %s, collects every listing exactly once while new ones are created between pages",
    async (sort) => {
      const seller = await register();
      const token = seller.auth.tokens.access_token;
      const prices = [500, 100, 900, 300, 300, 700, 100, 1100, 50];
      const original: number[] = [];
      for (const price_cents of prices) original.push((await createListing(token, { price_cents })).id);

      const created: number[] = [];
      const { items, pages } = await collectPages(browsePath, { seller: seller.username, sort, limit: 2 }, async (page) => {
        // Cheap, dear and in between: some land before the cursor, some after it.
        const price_cents = [1, 100_000, 300][page % 3]!;
        created.push((await createListing(token, { price_cents })).id);
      });
      const seen = items.map((item) => item.id);
      expect(new Set(seen).size, `no listing twice: ${seen}`).toBe(seen.length);
      for (const id of original) expect(seen.filter((s) => s === id), `listing ${id} once`).toHaveLength(1);
      expect(seen.every((id) => original.includes(id) || created.includes(id))).toBe(true);
      // New listings are newer than any cursor: none of them shows up in a newest-first walk.
      if (sort === "newest") expect(seen).toEqual([...original].sort((a, b) => b - a));
      expect(pages.slice(0, -1).every((page) => page.length === 2)).toBe(true);
      expectSorted(items, sort);
    },
  );

  it("ends with next_cursor null, and a full last page also ends there", async () => {
    const seller = await register();
    for (let i = 0; i < 4; i++) await createListing(seller.auth.tokens.access_token);
    const first = await browse({ seller: seller.username, limit: 2 });
    expect(first.body.next_cursor).not.toBeNull();
    const second = await browse({ seller: seller.username, limit: 2, cursor: first.body.next_cursor! });
    expect(second.status).toBe(200);
    expect(second.body.items).toHaveLength(2);
    expect(second.body.next_cursor).toBeNull();
    const whole = await browse({ seller: seller.username, limit: 4 });
    expect(whole.body.items).toHaveLength(4);
    expect(whole.body.next_cursor).toBeNull();
  });

  describe("cursors", () => {
    let username: string;
    let cursor: string;

    beforeAll(async () => {
      const seller = await register();
      username = seller.username;
      for (let i = 0; i < 3; i++) await createListing(seller.auth.tokens.access_token, { price_cents: 100 * (i + 1) });
      const first = await browse({ seller: username, sort: "newest", limit: 1 });
      expect(first.body.next_cursor).toEqual(expect.any(String));
      cursor = first.body.next_cursor!;
    });

    it("are accepted back unchanged", async () => {
      const res = await browse({ seller: username, sort: "newest", limit: 1, cursor });
      expect(res.status, res.text).toBe(200);
      expect(res.body.items).toHaveLength(1);
    });

    it("answer 400 when altered in any one character", async () => {
      for (let at = 0; at < cursor.length; at++) {
        const replacement = cursor[at] === "A" ? "B" : "A";
        const tampered = cursor.slice(0, at) + replacement + cursor.slice(at + 1);
        const res = await browse({ seller: username, sort: "newest", limit: 1, cursor: tampered });
        expectError(res, 400, "bad_request");
      }
    });

    it("answer 400 when truncated, extended or made up", async () => {
      for (const bad of [cursor.slice(0, -1), `${cursor}A`, "garbage", "1|newest|5|0|0x0p+0"]) {
        expectError(await browse({ seller: username, sort: "newest", limit: 1, cursor: bad }), 400, "bad_request");
      }
    });

    it("answer 400 when used with another sort", async () => {
      expectError(await browse({ seller: username, sort: "price_asc", limit: 1, cursor }), 400, "bad_request");
      expectError(await browse({ seller: username, sort: "price_desc", limit: 1, cursor }), 400, "bad_request");
      const priced = await browse({ seller: username, sort: "price_asc", limit: 1 });
      expect(priced.body.next_cursor).not.toBeNull();
      expectError(
        await browse({ seller: username, sort: "price_desc", limit: 1, cursor: priced.body.next_cursor! }),
        400,
        "bad_request",
      );
      expectError(
        await browse({ seller: username, limit: 1, cursor: priced.body.next_cursor! }),
        400,
        "bad_request",
      );
    });
  });
});

describe("browse validation", () => {
  it.each<[string, Params, string]>([
    ["limit=0", { limit: 0 }, "limit"],
    ["limit=101", { limit: 101 }, "limit"],
    ["limit=-1", { limit: -1 }, "limit"],
    ["limit=ten", { limit: "ten" }, "limit"],
    ["sort=relevance without q", { sort: "relevance" }, "sort"],
    ["sort=relevance with a blank q", { sort: "relevance", q: "   " }, "sort"],
    ["an unknown sort", { sort: "cheapest" }, "sort"],
    ["a negative min_price", { min_price: -1 }, "min_price"],
    ["a max_price over the price range", { max_price: 100_000_000 }, "max_price"],
    ["a min_price that is not a number", { min_price: "cheap" }, "min_price"],
    ["a fractional max_price", { max_price: "10.5" }, "max_price"],
    ["max_price below min_price", { min_price: 5000, max_price: 1000 }, "max_price"],
    ["an unknown category", { category: "spaceships" }, "category"],
    ["an unknown condition", { condition: "broken" }, "condition"],
    ["in_stock=yes", { in_stock: "yes" }, "in_stock"],
    ["a q of 201 characters", { q: "q".repeat(201) }, "q"],
  ])("refuses %s, naming the parameter", async (_, params, field) => {
    expectError(await browse(params), 422, "validation_failed", [field]);
  });

  it("accepts limit=1 and limit=100", async () => {
    const seller = await register();
    await createListing(seller.auth.tokens.access_token);
    await createListing(seller.auth.tokens.access_token);
    const one = await browse({ limit: 1 });
    expect(one.status).toBe(200);
    expect(one.body.items).toHaveLength(1);
    expect((await browse({ limit: 100 })).status).toBe(200);
  });

  it("validates the shop page's parameters the same way", async () => {
    const seller = await register();
    expectError(await browse({ limit: 0 }, shopPath(seller.username)), 422, "validation_failed", ["limit"]);
    expectError(await browse({ sort: "relevance" }, shopPath(seller.username)), 422, "validation_failed", ["sort"]);
  });
});

describe("search", () => {
  let username: string;
  let token: string;
  const words = { title: randomWord(), description: randomWord(), shared: randomWord(), typo: randomWord() };
  const made: Record<string, Listing> = {};

  beforeAll(async () => {
    const seller = await register();
    username = seller.username;
    token = seller.auth.tokens.access_token;
    // Described first, titled second: "newest" would put the title match first anyway, so the
    // ranking test below checks relevance against the insertion order.
    made.describedShared = await createListing(token, {
      title: "Plain wooden box",
      description: `A box. Mentions ${words.shared} in passing.`,
      price_cents: 200,
    });
    made.titledShared = await createListing(token, {
      title: `Lamp ${words.shared} deluxe`,
      description: "Nothing else to say.",
      price_cents: 100,
    });
    made.describedOnly = await createListing(token, {
      title: "Another plain thing",
      description: `Only the description has ${words.description}.`,
    });
    made.typo = await createListing(token, { title: `Vintage ${words.typo} lamp`, description: "Brass." });
  });

  it("finds a listing by a word of its description", async () => {
    expect(await browseIds({ q: words.description, seller: username })).toEqual([made.describedOnly!.id]);
    expect(await browseIds({ q: words.description })).toContain(made.describedOnly!.id);
  });

  it("ranks a title match above a description-only match", async () => {
    const expected = [made.titledShared!.id, made.describedShared!.id];
    expect(await browseIds({ q: words.shared, seller: username })).toEqual(expected);
    expect(await browseIds({ q: words.shared, seller: username, sort: "relevance" })).toEqual(expected);
    expect((await browseIds({ q: words.shared })).slice(0, 2)).toEqual(expected);
    // Relevance pages too: one listing per page, same order.
    const paged = await collectPages(browsePath, { q: words.shared, seller: username, limit: 1 });
    expect(paged.items.map((l) => l.id)).toEqual(expected);
  });

  it("sorts search results by another order when asked", async () => {
    expect(await browseIds({ q: words.shared, seller: username, sort: "price_desc" })).toEqual([
      made.describedShared!.id,
      made.titledShared!.id,
    ]);
    expect(await browseIds({ q: words.shared, seller: username, sort: "newest" })).toEqual([
      made.titledShared!.id,
      made.describedShared!.id,
    ]);
  });

  it("finds a title despite a one-letter typo", async () => {
    const misspelt = typo(words.typo);
    expect(misspelt).not.toBe(words.typo);
    expect(await browseIds({ q: misspelt, seller: username })).toEqual([made.typo!.id]);
    expect(await browseIds({ q: misspelt })).toContain(made.typo!.id);
  });

  it("finds nothing for a word nobody used, and on the shop page only the seller's", async () => {
    expect(await browseIds({ q: randomWord(16) })).toEqual([]);
    expect(await browseIds({ q: words.description }, shopPath(username))).toEqual([made.describedOnly!.id]);
    const other = await register();
    expect(await browseIds({ q: words.description }, shopPath(other.username))).toEqual([]);
  });
});

describe("shop pages", () => {
  it("answer 404 for an unknown user", async () => {
    expectError(await browse({}, shopPath(`nobody_${suffix()}`)), 404, "not_found");
  });

  it("answer 404 once the seller deleted the account, whose listings leave browsing too", async () => {
    const seller = await register();
    const listing = await createListing(seller.auth.tokens.access_token);
    expect(await browseIds({ seller: seller.username })).toEqual([listing.id]);
    expect((await api("DELETE", "/api/v1/me", { token: seller.auth.tokens.access_token })).status).toBe(204);
    expectError(await browse({}, shopPath(seller.username)), 404, "not_found");
    expect(await browseIds({ seller: seller.username })).toEqual([]);
  });

  it("show an empty page for a user without listings", async () => {
    const user = await register();
    const res = await browse({}, shopPath(user.username));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], next_cursor: null });
  });
});
