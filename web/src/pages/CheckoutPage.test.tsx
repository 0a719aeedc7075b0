import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/api";
import type { Cart } from "../api/types";
import { addressCheck, savedAddress } from "../test/addresses";
import { networkError } from "../test/axios";
import { renderPage } from "../test/render";
import { CheckoutPage } from "./CheckoutPage";

vi.mock("../api/api", async (importOriginal) => {
  const { withMockedCalls } = await import("../test/api-mock");
  return withMockedCalls(await importOriginal(), [
    "cart",
    "addresses",
    "addAddress",
    "validateAddress",
    "suggestPlaces",
    "placeOrder",
    "me",
  ]);
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
  await userEvent.type(
    screen.getByRole("combobox", { name: "City" }),
    "London",
  );
  await userEvent.type(screen.getByLabelText("Country code"), "gb");
}

const home = savedAddress({ id: 5 });
const office = savedAddress({
  id: 6,
  recipient_name: "Ada at work",
  line1: "1 Office Road",
  is_default: false,
});

// The first order placed is lost on the way (a retry is offered); the next one waits forever.
async function failFirstOrder() {
  vi.mocked(api.placeOrder)
    .mockRejectedValueOnce(networkError())
    .mockReturnValueOnce(new Promise(() => {}));
  renderPage(<CheckoutPage />, { path: "/checkout" });
  await userEvent.click(
    await screen.findByRole("button", { name: "Place order" }),
  );
  await screen.findByRole("button", { name: "Try again" });
}

describe("CheckoutPage", () => {
  beforeEach(() => {
    vi.mocked(api.cart).mockResolvedValue(cart);
    vi.mocked(api.addresses).mockResolvedValue([home, office]);
    vi.mocked(api.suggestPlaces).mockResolvedValue([]);
    for (const fn of [api.placeOrder, api.addAddress, api.validateAddress])
      vi.mocked(fn).mockReset();
  });

  it("places one order for a double click, with the default address", async () => {
    vi.mocked(api.placeOrder).mockReturnValue(new Promise(() => {}));
    renderPage(<CheckoutPage />, { path: "/checkout" });
    expect(
      await screen.findByRole("radio", { name: /^Ada Lovelace, 12 St James/ }),
    ).toHaveProperty("checked", true);
    await userEvent.dblClick(
      screen.getByRole("button", { name: "Place order" }),
    );
    await waitFor(() => expect(api.placeOrder).toHaveBeenCalledTimes(1));
    expect(
      screen.getByRole("button", { name: "Placing order…" }),
    ).toHaveProperty("disabled", true);
    expect(api.placeOrder).toHaveBeenCalledWith(
      { address_id: 5 },
      expect.any(String),
    );
  });

  it("retries after a network failure with the same idempotency key", async () => {
    await failFirstOrder();
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    await waitFor(() => expect(api.placeOrder).toHaveBeenCalledTimes(2));
    const [first, second] = vi.mocked(api.placeOrder).mock.calls;
    expect(second![1]).toBe(first![1]);
  });

  it("ships to another saved address when chosen, under another key", async () => {
    await failFirstOrder();
    await userEvent.click(
      screen.getByRole("radio", { name: /^Ada at work, 1 Office Road/ }),
    );
    await userEvent.click(screen.getByRole("button", { name: "Place order" }));
    await waitFor(() => expect(api.placeOrder).toHaveBeenCalledTimes(2));
    const [first, second] = vi.mocked(api.placeOrder).mock.calls;
    expect(first![0]).toEqual({ address_id: 5 });
    expect(second![0]).toEqual({ address_id: 6 });
    expect(second![1]).not.toBe(first![1]);
  });

  it("shows a buyer without addresses the form; the address is checked, saved and used", async () => {
    const saved = savedAddress({ id: 9 });
    vi.mocked(api.addresses)
      .mockResolvedValueOnce([])
      .mockResolvedValue([saved]);
    vi.mocked(api.validateAddress).mockResolvedValue(addressCheck());
    vi.mocked(api.addAddress).mockResolvedValue(saved);
    vi.mocked(api.placeOrder).mockReturnValue(new Promise(() => {}));
    renderPage(<CheckoutPage />, { path: "/checkout" });
    await fillAddress();
    expect(screen.getByRole("button", { name: "Place order" })).toHaveProperty(
      "disabled",
      true,
    );
    await userEvent.click(
      screen.getByRole("button", { name: "Save and use this address" }),
    );
    expect(
      await screen.findByRole("radio", { name: /^Ada Lovelace/ }),
    ).toHaveProperty("checked", true);
    const fields = {
      recipient_name: "Ada Lovelace",
      line1: "12 St James's Square",
      city: "London",
      country: "GB",
    };
    expect(api.validateAddress).toHaveBeenCalledWith(fields);
    expect(api.addAddress).toHaveBeenCalledWith(fields);
    await userEvent.click(screen.getByRole("button", { name: "Place order" }));
    await waitFor(() =>
      expect(api.placeOrder).toHaveBeenCalledWith(
        { address_id: 9 },
        expect.any(String),
      ),
    );
  });

  it("names a missing city next to its field, as the API would", async () => {
    vi.mocked(api.addresses).mockResolvedValue([]);
    renderPage(<CheckoutPage />, { path: "/checkout" });
    await userEvent.type(await screen.findByLabelText("Full name"), "Ada");
    await userEvent.click(
      screen.getByRole("button", { name: "Save and use this address" }),
    );
    expect(
      screen.getByRole("combobox", {
        name: "City",
        description: "Enter the city.",
      }),
    ).toBeTruthy();
    expect(api.validateAddress).not.toHaveBeenCalled();
    expect(api.placeOrder).not.toHaveBeenCalled();
  });

  it("adds a new address beside the saved ones, where the server's problems show per field", async () => {
    vi.mocked(api.validateAddress).mockResolvedValue(
      addressCheck([{ field: "city", message: "was not found in GB" }]),
    );
    renderPage(<CheckoutPage />, { path: "/checkout" });
    await userEvent.click(
      await screen.findByRole("radio", { name: "A new address" }),
    );
    await fillAddress();
    await userEvent.click(
      screen.getByRole("button", { name: "Save and use this address" }),
    );
    expect(
      await screen.findByRole("combobox", {
        name: "City",
        description: "The city was not found in GB.",
      }),
    ).toBeTruthy();
    expect(api.addAddress).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.getByRole("radio", { name: /^Ada Lovelace/ })).toHaveProperty(
      "checked",
      true,
    );
  });
});
