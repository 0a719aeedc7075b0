import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/api";
import type { Cart } from "../api/types";
import { networkError } from "../test/axios";
import { renderPage } from "../test/render";
import { CheckoutPage } from "./CheckoutPage";

vi.mock("../api/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../api/api")>();
  return {
    ...actual,
    api: { ...actual.api, cart: vi.fn(), placeOrder: vi.fn(), me: vi.fn() },
  };
});

const cart: Cart = {
  lines: [
    {
      listing_id: 7,
      title: "Lamp",
      seller: { username: "alice", display_name: "Alice" },
      main_image: null,
      unit_price_cents: 1500,
      price_when_added_cents: 1500,
      currency: "USD",
      quantity: 1,
      available: 3,
      line_total_cents: 1500,
      purchasable: true,
      problems: [],
      added_at: "2026-01-01T00:00:00Z",
    },
  ],
  line_count: 1,
  total_cents: 1500,
  currency: "USD",
  purchasable: true,
};

async function fillAddress() {
  await userEvent.type(
    await screen.findByLabelText("Full name"),
    "Ada Lovelace",
  );
  await userEvent.type(
    screen.getByLabelText("Address line 1"),
    "12 St James's Square",
  );
  await userEvent.type(screen.getByLabelText("City"), "London");
  await userEvent.type(screen.getByLabelText("Country code"), "gb");
}

describe("CheckoutPage", () => {
  beforeEach(() => {
    vi.mocked(api.cart).mockResolvedValue(cart);
    vi.mocked(api.placeOrder).mockReset();
  });

  it("places one order for a double click", async () => {
    vi.mocked(api.placeOrder).mockReturnValue(new Promise(() => {}));
    renderPage(<CheckoutPage />, { path: "/checkout" });
    await fillAddress();
    await userEvent.dblClick(
      screen.getByRole("button", { name: "Place order" }),
    );
    await waitFor(() => expect(api.placeOrder).toHaveBeenCalledTimes(1));
    expect(
      screen.getByRole("button", { name: "Placing order…" }),
    ).toHaveProperty("disabled", true);
    expect(api.placeOrder).toHaveBeenCalledWith(
      {
        recipient_name: "Ada Lovelace",
        line1: "12 St James's Square",
        city: "London",
        country: "GB",
      },
      expect.any(String),
    );
  });

  it("retries after a network failure with the same idempotency key", async () => {
    vi.mocked(api.placeOrder)
      .mockRejectedValueOnce(networkError())
      .mockReturnValueOnce(new Promise(() => {}));
    renderPage(<CheckoutPage />, { path: "/checkout" });
    await fillAddress();
    await userEvent.click(screen.getByRole("button", { name: "Place order" }));
    await userEvent.click(
      await screen.findByRole("button", { name: "Try again" }),
    );
    await waitFor(() => expect(api.placeOrder).toHaveBeenCalledTimes(2));
    const [first, second] = vi.mocked(api.placeOrder).mock.calls;
    expect(second![1]).toBe(first![1]);
  });

  it("names a missing city next to its field, as the API would", async () => {
    renderPage(<CheckoutPage />, { path: "/checkout" });
    await userEvent.type(await screen.findByLabelText("Full name"), "Ada");
    await userEvent.click(screen.getByRole("button", { name: "Place order" }));
    expect(
      screen.getByRole("textbox", {
        name: "City",
        description: "Enter the city.",
      }),
    ).toBeTruthy();
    expect(api.placeOrder).not.toHaveBeenCalled();
  });
});
