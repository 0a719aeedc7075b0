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
