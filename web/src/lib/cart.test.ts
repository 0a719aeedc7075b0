import { describe, expect, it } from "vitest";
import type { CartLine } from "../api/types";
import { cartLineWarnings, checkoutLineMessage, maxQuantity } from "./cart";

function line(overrides: Partial<CartLine>): CartLine {
  return {
    listing_id: 1,
    title: "Lamp",
    seller: { username: "alice", display_name: "Alice" },
    main_image: null,
    unit_price_cents: 1500,
    price_when_added_cents: 1500,
    currency: "USD",
    quantity: 2,
    available: 5,
    line_total_cents: 3000,
    purchasable: true,
    problems: [],
    added_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

describe("cartLineWarnings", () => {
  it("says nothing about a line without problems", () => {
    expect(cartLineWarnings(line({}))).toEqual([]);
  });

  it("shows the old and the new price when the price changed", () => {
    expect(
      cartLineWarnings(
        line({ problems: ["price_changed"], price_when_added_cents: 1200 }),
      ),
    ).toEqual(["Price changed from $12.00 to $15.00."]);
  });

  it("tells sold out apart from not enough", () => {
    expect(
      cartLineWarnings(line({ problems: ["exceeds_available"], available: 0 })),
    ).toEqual(["Sold out: remove it to check out."]);
    expect(
      cartLineWarnings(line({ problems: ["exceeds_available"], available: 1 })),
    ).toEqual(["Only 1 available: lower the quantity to check out."]);
  });

  it("lists every problem of the line", () => {
    expect(
      cartLineWarnings(
        line({
          problems: ["not_for_sale", "price_changed"],
          price_when_added_cents: 1000,
        }),
      ),
    ).toEqual([
      "No longer for sale: remove it to check out.",
      "Price changed from $10.00 to $15.00.",
    ]);
  });
});

describe("maxQuantity", () => {
  it("is what is available, capped at 99, never below the line's own quantity", () => {
    expect(maxQuantity(line({ available: 5 }))).toBe(5);
    expect(maxQuantity(line({ available: 500 }))).toBe(99);
    expect(maxQuantity(line({ available: 0, quantity: 3 }))).toBe(3);
  });
});

describe("checkoutLineMessage", () => {
  it("says sold out when none is left", () => {
    expect(checkoutLineMessage("only 0 available")).toBe(
      "Sold out: someone else just bought the last one.",
    );
  });
  it("says how many are left otherwise", () => {
    expect(checkoutLineMessage("only 2 available")).toBe(
      "Only 2 available now.",
    );
  });
  it("passes other reasons on as a sentence", () => {
    expect(checkoutLineMessage("is not for sale any more")).toBe(
      "Is not for sale any more.",
    );
  });
});
