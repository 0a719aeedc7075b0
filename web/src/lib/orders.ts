import type { Order } from "../api/types";

// When to ask for an order again while the server is about to change it: soon after a card was
// accepted (the order turns paid when the gateway's webhook is processed), and just after its
// payment deadline (the server then calls it expired), again every second until it does, since
// the two clocks need not agree.
export function pendingOrderPolling(
  order: Order | undefined,
  cardAccepted = false,
): number | false {
  if (!order || order.status !== "pending_payment") return false;
  if (cardAccepted) return 500;
  return Math.max(1000, Date.parse(order.expires_at) - Date.now() + 250);
}

const kActors: Record<string, string> = {
  buyer: "by the buyer",
  seller: "by the seller",
  provider: "by the payment provider",
  system: "automatically",
};

// The title of the order's item `id`, or "item 17" when the viewer does not see it.
function itemTitle(items: Order["items"], id: number): string {
  return items.find((item) => item.id === id)?.title ?? `item ${id}`;
}

// One line of an order's history for people: "Item shipped: Brass lamp, by the seller" from
// {type: "item.shipped", item_id, actor: "seller"}.
export function describeEvent(
  event: Order["events"][number],
  items: Order["items"],
): string {
  const words = event.type.replace(/[._]/g, " ").trim();
  const what = words.charAt(0).toUpperCase() + words.slice(1);
  const subject =
    event.item_id === null ? "" : `: ${itemTitle(items, event.item_id)}`;
  return `${what}${subject}, ${kActors[event.actor] ?? event.actor}`;
}

const kRefundReasons: Record<string, string> = {
  cancelled_by_buyer: "the order was cancelled",
  refunded_by_seller: "the seller could not ship it",
  paid_after_expiry: "the payment arrived after the order expired",
  paid_after_cancellation: "the payment arrived after the order was cancelled",
  stock_unavailable: "the stock was no longer available",
};

// One refund for people: "Refund of $20.00 for Brass lamp (pending): the seller could not ship
// it".
export function describeRefund(
  refund: Order["refunds"][number],
  items: Order["items"],
  money: (cents: number, currency: string) => string,
): string {
  const what =
    refund.item_id === null ? "" : ` for ${itemTitle(items, refund.item_id)}`;
  const why = kRefundReasons[refund.reason] ?? refund.reason.replace(/_/g, " ");
  return `Refund of ${money(refund.amount_cents, refund.currency)}${what} (${refund.status}): ${why}`;
}
