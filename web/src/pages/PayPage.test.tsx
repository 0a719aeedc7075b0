import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/api";
import type { Order, OrderPaymentIntent } from "../api/types";
import { renderPage } from "../test/render";
import { PayPage } from "./PayPage";

vi.mock("../api/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../api/api")>();
  return {
    ...actual,
    api: {
      ...actual.api,
      me: vi.fn(),
      order: vi.fn(),
      startPayment: vi.fn(),
      confirmLocalPayment: vi.fn(),
    },
  };
});

// Stripe.js and Elements as far as the page uses them: what they were given, and a
// confirmPayment whose answer each test picks.
const stripe = vi.hoisted(() => ({
  instance: { confirmPayment: vi.fn() },
  elements: { id: "elements" },
  loadStripe: vi.fn(),
  elementsProps: [] as { stripe: unknown; options: unknown }[],
}));

vi.mock("@stripe/stripe-js/pure", () => ({ loadStripe: stripe.loadStripe }));
vi.mock("@stripe/react-stripe-js", async () => {
  const { useEffect } = await import("react");
  return {
    Elements: (props: {
      stripe: unknown;
      options: unknown;
      children: ReactNode;
    }) => {
      stripe.elementsProps.push({
        stripe: props.stripe,
        options: props.options,
      });
      return <div data-testid="stripe-elements">{props.children}</div>;
    },
    PaymentElement: ({ onReady }: { onReady?: () => void }) => {
      useEffect(() => onReady?.(), [onReady]);
      return <div data-testid="payment-element" />;
    },
    useStripe: () => stripe.instance,
    useElements: () => stripe.elements,
  };
});

const order = {
  id: 42,
  status: "pending_payment",
  total_cents: 4500,
  currency: "USD",
  expires_at: new Date(Date.now() + 10 * 60_000).toISOString(),
} as Order;

const intent = {
  intent_id: "pi_123",
  client_secret: "pi_123_secret_abc",
  amount_cents: 4500,
  currency: "USD",
};

function payWith(provider: Partial<OrderPaymentIntent>) {
  vi.mocked(api.startPayment).mockResolvedValue({
    ...intent,
    ...provider,
  } as OrderPaymentIntent);
  renderPage(<PayPage />, { path: "/orders/:id/pay", route: "/orders/42/pay" });
}

// The Stripe form's pay button, once the Payment Element is ready.
async function stripePayButton() {
  payWith({ provider: "stripe", publishable_key: "pk_test_abc" });
  const pay = await screen.findByRole("button", { name: "Pay $45.00" });
  await waitFor(() => expect(pay).toHaveProperty("disabled", false));
  return pay;
}

describe("PayPage", () => {
  beforeEach(() => {
    vi.mocked(api.order).mockResolvedValue(order);
    vi.mocked(api.startPayment).mockReset();
    stripe.loadStripe.mockReset().mockResolvedValue(stripe.instance);
    stripe.instance.confirmPayment.mockReset();
    stripe.elementsProps.length = 0;
  });

  it("shows the built-in gateway's card form and never loads Stripe", async () => {
    payWith({ provider: "local" });
    expect(await screen.findByLabelText("Card number")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Pay $45.00" })).toBeTruthy();
    expect(screen.queryByTestId("stripe-elements")).toBeNull();
    expect(stripe.loadStripe).not.toHaveBeenCalled();
  });

  it("mounts Stripe Elements with the intent's client secret and the server's publishable key", async () => {
    payWith({ provider: "stripe", publishable_key: "pk_test_abc" });
    expect(await screen.findByTestId("payment-element")).toBeTruthy();
    expect(screen.queryByLabelText("Card number")).toBeNull();
    expect(stripe.loadStripe).toHaveBeenCalledWith("pk_test_abc");
    const props = stripe.elementsProps.at(-1)!;
    expect(props.options).toEqual({ clientSecret: "pi_123_secret_abc" });
    expect(await props.stripe).toBe(stripe.instance);
  });

  it("confirms once for a double click, then goes to the order page", async () => {
    let resolve: (value: unknown) => void = () => {};
    stripe.instance.confirmPayment.mockReturnValue(
      new Promise((r) => (resolve = r)),
    );
    const pay = await stripePayButton();
    await userEvent.dblClick(pay);
    expect(stripe.instance.confirmPayment).toHaveBeenCalledTimes(1);
    expect(stripe.instance.confirmPayment).toHaveBeenCalledWith({
      elements: stripe.elements,
      redirect: "if_required",
      confirmParams: { return_url: `${window.location.origin}/orders/42` },
    });
    expect(screen.getByRole("button", { name: "Paying…" })).toHaveProperty(
      "disabled",
      true,
    );
    resolve({ paymentIntent: { id: "pi_123", status: "succeeded" } });
    expect(await screen.findByText("elsewhere")).toBeTruthy();
  });

  it("shows Stripe's decline and lets the buyer try again", async () => {
    stripe.instance.confirmPayment
      .mockResolvedValueOnce({
        error: {
          type: "card_error",
          code: "card_declined",
          message: "Your card was declined.",
        },
      })
      .mockReturnValueOnce(new Promise(() => {}));
    const pay = await stripePayButton();
    await userEvent.click(pay);
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Your card was declined. Try another card.",
    );
    expect(pay).toHaveProperty("disabled", false);
    await userEvent.click(pay);
    expect(stripe.instance.confirmPayment).toHaveBeenCalledTimes(2);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("says so when the bank's 3-D Secure check fails", async () => {
    stripe.instance.confirmPayment.mockResolvedValueOnce({
      error: {
        type: "invalid_request_error",
        code: "payment_intent_authentication_failure",
        message: "We are unable to authenticate your payment method.",
      },
    });
    const pay = await stripePayButton();
    await userEvent.click(pay);
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Your bank could not authenticate this payment. Try again, or use another card.",
    );
  });

  it("offers another try when Stripe.js cannot be loaded", async () => {
    stripe.loadStripe
      .mockRejectedValueOnce(new Error("Failed to load Stripe.js"))
      .mockResolvedValueOnce(stripe.instance);
    payWith({ provider: "stripe", publishable_key: "pk_test_abc" });
    await userEvent.click(
      await screen.findByRole("button", { name: "Try again" }),
    );
    expect(await screen.findByTestId("payment-element")).toBeTruthy();
    expect(stripe.loadStripe).toHaveBeenCalledTimes(2);
  });
});
