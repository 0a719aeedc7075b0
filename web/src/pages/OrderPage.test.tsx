import { screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api, tokenStore } from "../api/api";
import type { InitialEntry } from "react-router";
import type { Me, Order } from "../api/types";
import { renderPage } from "../test/render";
import { OrderPage } from "./OrderPage";

vi.mock("../api/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../api/api")>();
  return { ...actual, api: { ...actual.api, me: vi.fn(), order: vi.fn() } };
});

const pending = {
  id: 42,
  status: "pending_payment",
  total_cents: 4500,
  currency: "USD",
  buyer: { username: "ada", display_name: "Ada" },
  shipping_address: {
    recipient_name: "Ada Lovelace",
    line1: "12 St James's Square",
    city: "London",
    country: "GB",
  },
  items: [],
  refunds: [],
  events: [],
  expires_at: new Date(Date.now() + 10 * 60_000).toISOString(),
} as unknown as Order;

function visit(route: InitialEntry) {
  renderPage(<OrderPage />, { path: "/orders/:id", route });
}

// Where Stripe.js sends the browser back to after a confirmation that needed a redirect.
function returnFromStripe(redirectStatus: string) {
  visit(
    `/orders/42?payment_intent=pi_123&payment_intent_client_secret=s&redirect_status=${redirectStatus}`,
  );
}

describe("OrderPage after paying", () => {
  beforeEach(() => {
    tokenStore.set({ accessToken: "a", refreshToken: "r" });
    vi.mocked(api.me).mockResolvedValue({ username: "ada" } as Me);
    vi.mocked(api.order).mockReset();
  });

  it("says the payment is being confirmed and asks again until the webhook has made it paid", async () => {
    vi.mocked(api.order)
      .mockResolvedValueOnce(pending)
      .mockResolvedValue({ ...pending, status: "paid" });
    visit({ pathname: "/orders/42", state: { paymentSubmitted: true } });
    expect((await screen.findByRole("status")).textContent).toContain(
      "Payment submitted",
    );
    expect(screen.queryByRole("link", { name: "Pay now" })).toBeNull();
    expect(screen.getByTestId("order-status").textContent).toBe(
      "Awaiting payment",
    );
    await screen.findByText("Paid", {}, { timeout: 3000 });
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("takes Stripe's redirect back as a submitted payment", async () => {
    vi.mocked(api.order).mockResolvedValue(pending);
    returnFromStripe("succeeded");
    expect((await screen.findByRole("status")).textContent).toContain(
      "Payment submitted",
    );
  });

  it("tells the buyer when the bank refused the redirected payment, and offers to pay again", async () => {
    vi.mocked(api.order).mockResolvedValue(pending);
    returnFromStripe("failed");
    expect((await screen.findByRole("alert")).textContent).toContain(
      "The payment was not completed",
    );
    expect(screen.getByRole("link", { name: "Pay now" })).toBeTruthy();
  });
});
