// GET /api/v1/me/listings: the seller's own list, with the inactive listings that every public
// list leaves out, and never anyone else's.
import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../../lib/client.js";
import { expectError, queryString, type ListingSummary } from "../../lib/fixtures.js";
import { account, placed, putInCart, sell, type Account } from "../../lib/payments.js";

interface OwnListingSummary extends ListingSummary {
  quantity: number;
  status: "active" | "inactive";
}

interface OwnListingPage {
  items: OwnListingSummary[];
  next_cursor: string | null;
}

const path = "/api/v1/me/listings";

function mine(token: string | undefined, params: Record<string, string | number | undefined> = {}) {
  return api<OwnListingPage>("GET", path + queryString(params), token === undefined ? {} : { token });
}

async function mineIds(token: string, params: Record<string, string | number | undefined> = {}): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const res = await mine(token, { ...params, cursor });
    expect(res.status, res.text).toBe(200);
    ids.push(...res.body.items.map((item) => item.id));
    if (res.body.next_cursor === null) return ids;
    cursor = res.body.next_cursor;
  }
  throw new Error("still a next_cursor after 20 pages");
}

async function setActive(token: string, id: number, active: boolean): Promise<void> {
  const res = await api("POST", `/api/v1/listings/${id}/${active ? "activate" : "deactivate"}`, { token });
  expect(res.status, res.text).toBe(200);
}

describe("the seller's own listings", () => {
  let seller: Account;
  let other: Account;
  let shown: number;
  let hidden: number;
  let gone: number;
  let othersHidden: number;
  let othersShown: number;

  beforeAll(async () => {
    [seller, other] = await Promise.all([account(), account()]);
    shown = (await sell(seller.token, { title: "Own shown lamp", price_cents: 3000, quantity: 5 })).id;
    hidden = (await sell(seller.token, { title: "Own hidden lamp", price_cents: 1000 })).id;
    gone = (await sell(seller.token, { title: "Own deleted lamp" })).id;
    othersShown = (await sell(other.token, { title: "Another seller's lamp" })).id;
    othersHidden = (await sell(other.token, { title: "Another seller's hidden lamp" })).id;
    await setActive(seller.token, hidden, false);
    await setActive(other.token, othersHidden, false);
    const deleted = await api("DELETE", `/api/v1/listings/${gone}`, { token: seller.token });
    expect(deleted.status, deleted.text).toBe(204);
  });

  it("shows active and inactive ones by default, newest first, never deleted ones", async () => {
    expect(await mineIds(seller.token)).toEqual([hidden, shown]);
    expect(await mineIds(seller.token, { status: "all" })).toEqual([hidden, shown]);
  });

  it("filters by status", async () => {
    expect(await mineIds(seller.token, { status: "active" })).toEqual([shown]);
    expect(await mineIds(seller.token, { status: "inactive" })).toEqual([hidden]);
    const res = await mine(seller.token, { status: "inactive" });
    expect(res.body.items[0]).toMatchObject({ id: hidden, status: "inactive", title: "Own hidden lamp" });
  });

  it("never shows another seller's listings, whatever the query names", async () => {
    for (const params of [{}, { seller: other.username }, { status: "inactive", seller: other.username }]) {
      const ids = await mineIds(seller.token, params);
      expect(ids).not.toContain(othersShown);
      expect(ids).not.toContain(othersHidden);
    }
    expect(await mineIds(other.token)).toEqual([othersHidden, othersShown]);
  });

  it("shows what is on hand and what unpaid orders reserve", async () => {
    const buyer = await account();
    await putInCart(buyer.token, shown, 2);
    await placed(buyer.token);
    const res = await mine(seller.token, { status: "active" });
    expect(res.status, res.text).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ id: shown, status: "active", quantity: 5, available: 3 });
  });

  it("takes the list filters and sorts, and pages with the cursor", async () => {
    expect(await mineIds(seller.token, { sort: "price_asc" })).toEqual([hidden, shown]);
    expect(await mineIds(seller.token, { sort: "price_desc", limit: 1 })).toEqual([shown, hidden]);
    expect(await mineIds(seller.token, { max_price: 2000 })).toEqual([hidden]);
    expect(await mineIds(seller.token, { q: "hidden" })).toEqual([hidden]);
  });

  it("answers 400 bad_request for an unknown status", async () => {
    for (const status of ["deleted", "ACTIVE", "any"]) {
      const res = await mine(seller.token, { status });
      const body = expectError(res, 400, "bad_request");
      expect(body.error.message).toMatch(/status/);
    }
  });

  it("answers 400 for a cursor of another sort, and 422 for bad filters", async () => {
    const first = await mine(seller.token, { limit: 1 });
    expect(first.body.next_cursor).not.toBeNull();
    expectError(await mine(seller.token, { sort: "price_asc", cursor: first.body.next_cursor! }), 400, "bad_request");
    expectError(await mine(seller.token, { limit: 0 }), 422, "validation_failed");
  });

  it("needs a signed-in caller", async () => {
    expectError(await mine(undefined), 401, "unauthenticated");
    expectError(await mine("not-a-token"), 401, "invalid_token");
  });
});
