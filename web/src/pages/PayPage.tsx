import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type { Order, OrderPaymentIntent } from "../api/types";
import { Countdown } from "../components/Countdown";
import {
  Button,
  Field,
  PageHeading,
  ProblemNotice,
  QueryGate,
} from "../components/ui";
import { formatMoney } from "../lib/format";
import { pendingOrderPolling } from "../lib/orders";
import { useTitle } from "../lib/useTitle";

// Stripe Elements, in a chunk of its own: only a buyer paying an order whose payment the server
// made with Stripe downloads it, and with it Stripe.js.
const StripePayment = lazy(() => import("./StripePayment"));

const kTestCards = [
  ["4242 4242 4242 4242", "succeeds"],
  ["4000 0000 0000 0002", "is declined"],
  ["4000 0000 0000 9995", "has insufficient funds"],
] as const;

export function PayPage() {
  useTitle("Pay");
  const id = Number(useParams().id);
  const [confirmed, setConfirmed] = useState(false);
  const order = useQuery({
    queryKey: ["order", id],
    queryFn: () => api.order(id),
    // After the card is accepted, the order turns paid when the gateway's webhook is processed.
    refetchInterval: (query) =>
      pendingOrderPolling(query.state.data, confirmed),
  });

  return (
    <QueryGate query={order}>
      {(data) =>
        data.status === "pending_payment" ? (
          <PendingPayment
            order={data}
            confirmed={confirmed}
            onConfirmed={() => setConfirmed(true)}
          />
        ) : (
          <PaymentOutcome order={data} />
        )
      }
    </QueryGate>
  );
}

function PendingPayment({
  order: data,
  confirmed,
  onConfirmed,
}: {
  order: Order;
  confirmed: boolean;
  onConfirmed: () => void;
}) {
  const queryClient = useQueryClient();
  return (
    <div className="mx-auto max-w-md">
      <PageHeading>Pay for order #{data.id}</PageHeading>
      <p className="mb-4">
        Total <strong>{formatMoney(data.total_cents, data.currency)}</strong>.
        This order holds its items for{" "}
        <Countdown
          until={data.expires_at}
          onExpired={() =>
            queryClient.invalidateQueries({ queryKey: ["order", data.id] })
          }
        />
        .
      </p>
      {confirmed ? (
        <p role="status" className="rounded-md bg-green-50 p-3 text-green-800">
          Card accepted. Confirming the payment…
        </p>
      ) : (
        <PaymentForm order={data} onConfirmed={onConfirmed} />
      )}
    </div>
  );
}

// The order's payment intent, then the form of the provider that made it: the built-in
// gateway's card form, or Stripe Elements.
function PaymentForm({
  order,
  onConfirmed,
}: {
  order: Order;
  onConfirmed: () => void;
}) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const intent = useQuery({
    queryKey: ["payment-intent", order.id],
    queryFn: () => api.startPayment(order.id),
    staleTime: Infinity,
  });

  if (intent.error) {
    const problem = toProblem(intent.error);
    if (problem.status === 409)
      queryClient.invalidateQueries({ queryKey: ["order", order.id] });
    return <ProblemNotice problem={problem} onRetry={() => intent.refetch()} />;
  }
  if (!intent.data)
    return (
      <p role="status" className="text-slate-600">
        Preparing the payment…
      </p>
    );
  if (intent.data.provider === "stripe") {
    if (!intent.data.publishable_key)
      return (
        <p role="alert" className="rounded-md bg-amber-50 p-3 text-amber-900">
          Card payments are not set up on this marketplace. Your order stays
          reserved until the time shown above.
        </p>
      );
    return (
      <Suspense
        fallback={
          <p role="status" className="text-slate-600">
            Loading the payment form…
          </p>
        }
      >
        <StripePayment
          order={order}
          publishableKey={intent.data.publishable_key}
          clientSecret={intent.data.client_secret}
          onSubmitted={() =>
            navigate(`/orders/${order.id}`, {
              state: { paymentSubmitted: true },
            })
          }
        />
      </Suspense>
    );
  }
  return (
    <CardForm order={order} intent={intent.data} onConfirmed={onConfirmed} />
  );
}

function PaymentOutcome({ order }: { order: Order }) {
  const messages: Record<string, string> = {
    paid: "Payment received. The seller will ship your order soon.",
    completed: "This order is complete.",
    cancelled: "This order was cancelled.",
    expired:
      "This order expired before it was paid, and its items were released. Add them to your cart again to buy them.",
  };
  return (
    <div className="mx-auto max-w-md">
      <PageHeading>Order #{order.id}</PageHeading>
      <p
        role="status"
        className={`rounded-md p-3 ${order.status === "paid" || order.status === "completed" ? "bg-green-50 text-green-800" : "bg-amber-50 text-amber-900"}`}
      >
        {messages[order.status]}
      </p>
      <Link
        className="mt-4 inline-block text-indigo-700 underline"
        to={`/orders/${order.id}`}
      >
        See the order
      </Link>
    </div>
  );
}

function CardForm({
  order,
  intent,
  onConfirmed,
}: {
  order: Order;
  intent: OrderPaymentIntent;
  onConfirmed: () => void;
}) {
  const queryClient = useQueryClient();
  const [card, setCard] = useState({
    number: "",
    month: "",
    year: "",
    cvc: "",
  });
  const confirm = useMutation({
    mutationFn: async () => {
      return api.confirmLocalPayment(intent.intent_id, {
        client_secret: intent.client_secret,
        card_number: card.number,
        exp_month: Number(card.month),
        exp_year: Number(card.year),
        cvc: card.cvc,
      });
    },
    onSuccess: () => {
      onConfirmed();
      queryClient.invalidateQueries({ queryKey: ["order", order.id] });
    },
  });

  const problem = confirm.error ? toProblem(confirm.error) : null;
  const declined = problem?.status === 402;
  const set =
    (name: keyof typeof card) => (event: React.ChangeEvent<HTMLInputElement>) =>
      setCard({ ...card, [name]: event.target.value });

  return (
    <form
      noValidate
      className="space-y-4 rounded-lg bg-white p-6 shadow-sm"
      onSubmit={(event) => {
        event.preventDefault();
        if (!confirm.isPending) confirm.mutate();
      }}
    >
      <h2 className="text-lg font-semibold">Card</h2>
      {problem && !declined && Object.keys(problem.fields).length === 0 && (
        <ProblemNotice problem={problem} onRetry={() => confirm.mutate()} />
      )}
      <Field
        label="Card number"
        inputMode="numeric"
        autoComplete="cc-number"
        value={card.number}
        onChange={set("number")}
        error={
          declined
            ? `${problem.message} Try another card.`
            : problem?.fields.card_number
        }
      />
      <div className="grid grid-cols-3 gap-3">
        <Field
          label="Month"
          inputMode="numeric"
          autoComplete="cc-exp-month"
          placeholder="12"
          value={card.month}
          onChange={set("month")}
          error={problem?.fields.exp_month}
        />
        <Field
          label="Year"
          inputMode="numeric"
          autoComplete="cc-exp-year"
          placeholder="2030"
          value={card.year}
          onChange={set("year")}
          error={problem?.fields.exp_year}
        />
        <Field
          label="CVC"
          inputMode="numeric"
          autoComplete="cc-csc"
          value={card.cvc}
          onChange={set("cvc")}
          error={problem?.fields.cvc}
        />
      </div>
      <Button type="submit" className="w-full" disabled={confirm.isPending}>
        {confirm.isPending
          ? "Paying…"
          : `Pay ${formatMoney(order.total_cents, order.currency)}`}
      </Button>
      <div className="rounded-md bg-slate-50 p-3 text-sm text-slate-600">
        <p className="font-medium">Test cards (any future expiry, any CVC):</p>
        <ul>
          {kTestCards.map(([number, outcome]) => (
            <li key={number}>
              <code>{number}</code> {outcome}
            </li>
          ))}
        </ul>
      </div>
    </form>
  );
}
