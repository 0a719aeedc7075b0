import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { api } from "../api/api";
import type { Cart } from "../api/types";
import { renderPage } from "../test/render";
import { CartPage } from "./CartPage";

vi.mock("../api/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../api/api")>();
  return { ...actual, api: { ...actual.api, cart: vi.fn(), me: vi.fn() } };
});

const line = {
  seller: { username: "alice", display_name: "Alice" },
  main_image: null,
  currency: "USD",
  added_at: "2026-01-01T00:00:00Z",
};

describe("CartPage", () => {
  it("marks the lines that changed and holds back checkout until they are fixed", async () => {
    const cart: Cart = {
      lines: [
        {
          ...line,
          listing_id: 1,
          title: "Lamp",
          unit_price_cents: 1500,
          price_when_added_cents: 1200,
          quantity: 3,
          available: 1,
          line_total_cents: 4500,
          purchasable: false,
          problems: ["price_changed", "exceeds_available"],
        },
        {
          ...line,
          listing_id: 2,
          title: "Kettle",
          unit_price_cents: 3000,
          price_when_added_cents: 3000,
          quantity: 1,
          available: 4,
          line_total_cents: 3000,
          purchasable: true,
          problems: [],
        },
      ],
      line_count: 2,
      total_cents: 7500,
      currency: "USD",
      purchasable: false,
    };
    vi.mocked(api.cart).mockResolvedValue(cart);
    renderPage(<CartPage />, { path: "/cart" });

    const lamp = await screen.findByRole("article", { name: "Lamp" });
    const warnings = within(lamp).getByRole("list", { name: "Warnings" });
    expect(warnings.textContent).toContain(
      "Price changed from $12.00 to $15.00.",
    );
    expect(warnings.textContent).toContain(
      "Only 1 available: lower the quantity to check out.",
    );
    expect(
      within(screen.getByRole("article", { name: "Kettle" })).queryByRole(
        "list",
        { name: "Warnings" },
      ),
    ).toBeNull();
    expect(screen.getByTestId("cart-total").textContent).toBe("$75.00");
    expect(screen.queryByRole("link", { name: "Check out" })).toBeNull();
    expect(
      screen.getByText("Fix the lines marked above to check out."),
    ).toBeTruthy();
  });
});
