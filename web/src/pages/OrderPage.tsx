import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useParams, useSearchParams } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type { Order, OrderItem } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Countdown } from "../components/Countdown";
import { StatusBadge } from "../components/StatusBadge";
import {
  Button,
  Field,
  PageHeading,
  ProblemNotice,
  QueryGate,
  TotalRow,
} from "../components/ui";
import { formatDate, formatMoney } from "../lib/format";
import {
  describeEvent,
  describeRefund,
  pendingOrderPolling,
} from "../lib/orders";
import { useTitle } from "../lib/useTitle";

// How the buyer arrived from paying: Stripe took the payment in the pay page (navigation state),
// or Stripe.js sent the browser away to confirm it and back here with `redirect_status`.
export type PaymentReturn = "submitted" | "failed" | null;

function usePaymentReturn(): PaymentReturn {
  const location = useLocation();
  const [params] = useSearchParams();
  const redirect = params.get("payment_intent")
    ? params.get("redirect_status")
    : null;
  if (redirect === "failed" || redirect === "requires_payment_method")
    return "failed";
  if (
    redirect === "succeeded" ||
    redirect === "processing" ||
    redirect === "pending"
  )
    return "submitted";
  const state = location.state as { paymentSubmitted?: boolean } | null;
  return state?.paymentSubmitted ? "submitted" : null;
}

export function OrderPage() {
  const id = Number(useParams().id);
  useTitle(`Order #${id}`);
  const { me } = useAuth();
  const paymentReturn = usePaymentReturn();
  const order = useQuery({
    queryKey: ["order", id],
    queryFn: () => api.order(id),
    refetchOnMount: "always",
    // Just paid: the order turns paid when the provider's webhook reaches the server.
    refetchInterval: (query) =>
      pendingOrderPolling(query.state.data, paymentReturn === "submitted"),
  });

  return (
    <QueryGate query={order}>
      {(data) => (
        <OrderView
          order={data}
          isBuyer={me?.username === data.buyer.username}
          sellerName={me?.username}
          paymentReturn={paymentReturn}
        />
      )}
    </QueryGate>
  );
}

// An action on the order whose answer is the order as it is now: shown at once, and the order
// lists refetched.
function useOrderChange(orderId: number, change: () => Promise<Order>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSuccess: (next: Order) => {
      queryClient.setQueryData(["order", orderId], next);
      queryClient.invalidateQueries({ queryKey: ["orders"] });
    },
  });
}

function OrderView({
  order,
  isBuyer,
  sellerName,
  paymentReturn,
}: {
  order: Order;
  isBuyer: boolean;
  sellerName?: string;
  paymentReturn: PaymentReturn;
}) {
  const queryClient = useQueryClient();
  const cancel = useOrderChange(order.id, () => api.cancelOrder(order.id));
  const deliver = useOrderChange(order.id, () => api.deliverItems(order.id));
  const problem = cancel.error
    ? toProblem(cancel.error)
    : deliver.error
      ? toProblem(deliver.error)
      : null;
  const anyShipped = order.items.some((item) => item.status === "shipped");
  const refunded = order.refunds.reduce(
    (sum, refund) => sum + refund.amount_cents,
    0,
  );
  const cancellable =
    order.status === "pending_payment" ||
    (order.status === "paid" &&
      order.items.every(
        (item) =>
          item.status === "awaiting_shipment" || item.status === "cancelled",
      ));

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-3">
        <PageHeading>Order #{order.id}</PageHeading>
        <span className="mb-4" data-testid="order-status">
          <StatusBadge status={order.status} />
        </span>
      </div>
      {order.status === "pending_payment" &&
        isBuyer &&
        paymentReturn === "submitted" && (
          <p
            role="status"
            className="rounded-md bg-green-50 p-3 text-green-800"
          >
            Payment submitted. Waiting for the payment provider to confirm it…
          </p>
        )}
      {order.status === "pending_payment" &&
        isBuyer &&
        paymentReturn === "failed" && (
          <p role="alert" className="rounded-md bg-red-50 p-3 text-red-800">
            The payment was not completed: your bank did not confirm it. You can
            try again below.
          </p>
        )}
      {order.status === "pending_payment" &&
        isBuyer &&
        paymentReturn !== "submitted" && (
          <div className="rounded-md bg-amber-50 p-3 text-amber-900">
            Waiting for payment:{" "}
            <Countdown
              until={order.expires_at}
              onExpired={() =>
                queryClient.invalidateQueries({ queryKey: ["order", order.id] })
              }
            />{" "}
            left.{" "}
            <Link
              className="font-semibold underline"
              to={`/orders/${order.id}/pay`}
            >
              Pay now
            </Link>
          </div>
        )}
      {problem && <ProblemNotice problem={problem} />}
      <section
        aria-labelledby="items-heading"
        className="rounded-lg bg-white p-4 shadow-sm"
      >
        <h2 id="items-heading" className="text-lg font-semibold">
          Items
        </h2>
        <ul className="mt-2 divide-y">
          {order.items.map((item) => (
            <li key={item.id} className="py-3">
              <ItemRow
                order={order}
                item={item}
                canShip={!isBuyer && item.seller.username === sellerName}
              />
            </li>
          ))}
        </ul>
        <TotalRow cents={order.total_cents} currency={order.currency} />
        {refunded > 0 && (
          <p className="mt-1 flex justify-between text-sm text-slate-700">
            <span>Refunded</span>
            <span>−{formatMoney(refunded, order.currency)}</span>
          </p>
        )}
      </section>
      <div className="grid gap-6 md:grid-cols-2">
        <section
          className="rounded-lg bg-white p-4 shadow-sm"
          aria-labelledby="address-heading"
        >
          <h2 id="address-heading" className="text-lg font-semibold">
            Shipping to
          </h2>
          <address className="mt-2 not-italic text-slate-700">
            {order.shipping_address.recipient_name}
            <br />
            {order.shipping_address.line1}
            {order.shipping_address.line2 && (
              <>
                <br />
                {order.shipping_address.line2}
              </>
            )}
            <br />
            {[
              order.shipping_address.postal_code,
              order.shipping_address.city,
              order.shipping_address.region,
            ]
              .filter(Boolean)
              .join(" ")}
            <br />
            {order.shipping_address.country}
          </address>
        </section>
        <section
          className="rounded-lg bg-white p-4 shadow-sm"
          aria-labelledby="history-heading"
        >
          <h2 id="history-heading" className="text-lg font-semibold">
            History
          </h2>
          <ol className="mt-2 space-y-1 text-sm">
            {order.events.map((event, i) => (
              <li key={i}>
                <span className="font-medium">
                  {describeEvent(event, order.items)}
                </span>
                <span className="text-slate-600">
                  {" "}
                  · {formatDate(event.created_at)}
                </span>
              </li>
            ))}
          </ol>
          {order.refunds.map((refund, i) => (
            <p key={i} className="mt-2 text-sm text-slate-700">
              {describeRefund(refund, order.items, formatMoney)}
            </p>
          ))}
        </section>
      </div>
      {isBuyer && (
        <div className="flex flex-wrap gap-3">
          {anyShipped && (
            <Button
              onClick={() => deliver.mutate()}
              disabled={deliver.isPending}
            >
              Mark as delivered
            </Button>
          )}
          {cancellable && (
            <Button
              variant="danger"
              disabled={cancel.isPending}
              onClick={() => {
                if (window.confirm("Cancel this order?")) cancel.mutate();
              }}
            >
              Cancel order
            </Button>
          )}
        </div>
      )}
    </div>
  );
}

function ItemRow({
  order,
  item,
  canShip,
}: {
  order: Order;
  item: OrderItem;
  canShip: boolean;
}) {
  return (
    <div className="flex gap-3">
      {item.image_url ? (
        <img
          src={item.image_url}
          alt={item.title}
          className="h-16 w-16 rounded object-cover"
          width={64}
          height={64}
        />
      ) : (
        <div className="h-16 w-16 rounded bg-slate-100" aria-hidden="true" />
      )}
      <div className="flex-1">
        <p className="font-medium">
          {item.quantity} × {item.title}
        </p>
        <p className="text-sm text-slate-500">
          {formatMoney(item.line_total_cents, item.currency)} · sold by{" "}
          {item.seller.display_name}
        </p>
        <p className="mt-1 text-sm">
          <StatusBadge status={item.status} />
          {item.tracking_code && (
            <span className="ml-2">
              {item.carrier} tracking <code>{item.tracking_code}</code>
            </span>
          )}
        </p>
        {canShip && item.status === "awaiting_shipment" && (
          <>
            <ShipForm orderId={order.id} itemId={item.id} />
            <RefundForm orderId={order.id} item={item} />
          </>
        )}
      </div>
    </div>
  );
}

// For a seller who cannot ship a line: it is cancelled and its total refunded to the buyer.
function RefundForm({ orderId, item }: { orderId: number; item: OrderItem }) {
  const [reason, setReason] = useState("");
  const refund = useOrderChange(orderId, () =>
    api.refundItems(orderId, [item.id], reason.trim()),
  );
  const problem = refund.error ? toProblem(refund.error) : null;
  return (
    <details className="mt-2 text-sm">
      <summary className="cursor-pointer text-slate-600">
        Cannot ship it? Refund this item
      </summary>
      <form
        className="mt-2 flex flex-wrap items-start gap-2"
        aria-label={`Refund item ${item.id}`}
        onSubmit={(event) => {
          event.preventDefault();
          if (
            window.confirm(
              `Refund ${formatMoney(item.line_total_cents, item.currency)} for ${item.title} to the buyer? The item is cancelled.`,
            )
          )
            refund.mutate();
        }}
      >
        <Field
          label="Reason for the buyer (optional)"
          value={reason}
          maxLength={200}
          onChange={(e) => setReason(e.target.value)}
          error={problem?.fields.reason}
        />
        <Button
          type="submit"
          variant="danger"
          className="mt-6"
          disabled={refund.isPending}
        >
          Refund item
        </Button>
        {problem && Object.keys(problem.fields).length === 0 && (
          <ProblemNotice problem={problem} />
        )}
      </form>
    </details>
  );
}

function ShipForm({ orderId, itemId }: { orderId: number; itemId: number }) {
  const [carrier, setCarrier] = useState("");
  const [tracking, setTracking] = useState("");
  const ship = useOrderChange(orderId, () =>
    api.shipItems(orderId, [itemId], carrier.trim(), tracking.trim()),
  );
  const problem = ship.error ? toProblem(ship.error) : null;
  return (
    <form
      className="mt-2 flex flex-wrap items-start gap-2"
      aria-label={`Ship item ${itemId}`}
      onSubmit={(event) => {
        event.preventDefault();
        ship.mutate();
      }}
    >
      <Field
        label="Carrier"
        value={carrier}
        onChange={(e) => setCarrier(e.target.value)}
        error={problem?.fields.carrier}
      />
      <Field
        label="Tracking code"
        value={tracking}
        onChange={(e) => setTracking(e.target.value)}
        error={problem?.fields.tracking_code}
      />
      <Button type="submit" className="mt-6" disabled={ship.isPending}>
        Mark shipped
      </Button>
      {problem && Object.keys(problem.fields).length === 0 && (
        <ProblemNotice problem={problem} />
      )}
    </form>
  );
}
