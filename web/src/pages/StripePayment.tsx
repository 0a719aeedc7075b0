import {
  Elements,
  PaymentElement,
  useElements,
  useStripe,
} from "@stripe/react-stripe-js";
import type { Stripe, StripeError } from "@stripe/stripe-js";
// The pure entry adds Stripe's script only when loadStripe is called (the main entry adds it
// as soon as it is imported), and this module is a chunk of its own that the pay page loads
// only for an order whose payment the server made with Stripe.
import { loadStripe } from "@stripe/stripe-js/pure";
import { useRef, useState, type FormEvent } from "react";
import type { Order } from "../api/types";
import { Button } from "../components/ui";
import { formatMoney } from "../lib/format";

export interface StripePaymentProps {
  order: Order;
  publishableKey: string;
  clientSecret: string;
  // Stripe took the payment (or is still processing it): the order turns paid when Stripe's
  // webhook reaches the server.
  onSubmitted: () => void;
}

// The payment page's Stripe Elements form: Stripe's Payment Element for the order's intent, and
// the confirmation with 3-D Secure handled by Stripe.js in the page (a redirect only for the
// methods that need one, back to the order page).
export default function StripePayment(props: StripePaymentProps) {
  const [failed, setFailed] = useState(false);
  // Elements takes its `stripe` once: another try at loading Stripe.js mounts a new one.
  const [attempt, setAttempt] = useState(0);
  const [stripe, setStripe] = useState(() =>
    loadStripeOnce(props.publishableKey, () => setFailed(true)),
  );

  if (failed) {
    return (
      <div
        role="alert"
        className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800"
      >
        <p>
          Could not load Stripe&apos;s payment form. Check your connection and
          try again.
        </p>
        <Button
          variant="secondary"
          className="mt-2"
          onClick={() => {
            setFailed(false);
            setStripe(
              loadStripeOnce(props.publishableKey, () => setFailed(true)),
            );
            setAttempt(attempt + 1);
          }}
        >
          Try again
        </Button>
      </div>
    );
  }
  return (
    <Elements
      key={attempt}
      stripe={stripe}
      options={{ clientSecret: props.clientSecret }}
    >
      <StripeForm {...props} />
    </Elements>
  );
}

// Stripe.js for this key; null (and onFailure) when its script cannot be loaded.
function loadStripeOnce(
  publishableKey: string,
  onFailure: () => void,
): Promise<Stripe | null> {
  return loadStripe(publishableKey).catch(() => {
    onFailure();
    return null;
  });
}

// What the buyer is told about a refused confirmation. Stripe's messages for card and
// validation errors are written for buyers (and localised); others may be technical.
function describeStripeError(error: StripeError): string {
  if (error.code === "payment_intent_authentication_failure")
    return "Your bank could not authenticate this payment. Try again, or use another card.";
  if (
    (error.type === "card_error" || error.type === "validation_error") &&
    error.message
  )
    return error.code === "card_declined"
      ? `${error.message} Try another card.`
      : error.message;
  return "The payment could not be completed. Please try again.";
}

function StripeForm({ order, onSubmitted }: StripePaymentProps) {
  const stripe = useStripe();
  const elements = useElements();
  const [ready, setReady] = useState(false);
  const [paying, setPaying] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  // A second click lands before React has re-rendered the disabled button.
  const inFlight = useRef(false);

  const pay = async (event: FormEvent) => {
    event.preventDefault();
    if (!stripe || !elements || inFlight.current) return;
    inFlight.current = true;
    setPaying(true);
    setProblem(null);
    try {
      const result = await stripe.confirmPayment({
        elements,
        redirect: "if_required",
        confirmParams: {
          return_url: `${window.location.origin}/orders/${order.id}`,
        },
      });
      if (result.error) {
        setProblem(describeStripeError(result.error));
      } else if (
        result.paymentIntent.status === "succeeded" ||
        result.paymentIntent.status === "processing" ||
        result.paymentIntent.status === "requires_capture"
      ) {
        onSubmitted();
        return;
      } else {
        setProblem(
          "The payment was not completed. Please try again, or use another card.",
        );
      }
    } catch {
      setProblem(
        "Could not reach Stripe. Check your connection and try again.",
      );
    }
    inFlight.current = false;
    setPaying(false);
  };

  const busy = paying || !ready;
  return (
    <form
      noValidate
      className="space-y-4 rounded-lg bg-white p-6 shadow-sm"
      onSubmit={pay}
    >
      <h2 className="text-lg font-semibold">Payment</h2>
      {problem && (
        <p
          role="alert"
          className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800"
        >
          {problem}
        </p>
      )}
      <PaymentElement
        onReady={() => setReady(true)}
        onLoadError={() =>
          setProblem(
            "Stripe could not show the payment form for this order. Reload the page to try again.",
          )
        }
      />
      <Button
        type="submit"
        className="w-full"
        disabled={!stripe || !elements || busy}
      >
        {paying
          ? "Paying…"
          : `Pay ${formatMoney(order.total_cents, order.currency)}`}
      </Button>
      <p className="text-xs text-slate-500">
        Card details go straight to Stripe; this marketplace never sees them.
      </p>
    </form>
  );
}
