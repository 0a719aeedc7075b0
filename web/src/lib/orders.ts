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

// One line of an order's history for people: "Item shipped: Brass lamp, by the seller" from
// {type: "item.shipped", item_id, actor: "seller"}.
export function describeEvent(
  event: Order["events"][number],
  items: Order["items"],
): string {
  const words = event.type.replace(/[._]/g, " ").trim();
  const what = words.charAt(0).toUpperCase() + words.slice(1);
  const item =
    event.item_id === null
      ? undefined
      : items.find((candidate) => candidate.id === event.item_id);
  const subject =
    event.item_id === null
      ? ""
      : `: ${item ? item.title : `item ${event.item_id}`}`;
  return `${what}${subject}, ${kActors[event.actor] ?? event.actor}`;
}
