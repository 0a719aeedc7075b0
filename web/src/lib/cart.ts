import type { CartLine } from "../api/types";
import { formatMoney } from "./format";

// What a person should know about a line before checking out, from the problems the API reports.
export function cartLineWarnings(line: CartLine): string[] {
  const warnings: string[] = [];
  for (const problem of line.problems) {
    switch (problem) {
      case "not_for_sale":
        warnings.push("No longer for sale: remove it to check out.");
        break;
      case "exceeds_available":
        warnings.push(
          line.available === 0
            ? "Sold out: remove it to check out."
            : `Only ${line.available} available: lower the quantity to check out.`,
        );
        break;
      case "price_changed":
        warnings.push(
          `Price changed from ${formatMoney(line.price_when_added_cents, line.currency)} to ${formatMoney(
            line.unit_price_cents,
            line.currency,
          )}.`,
        );
        break;
    }
  }
  return warnings;
}

// The largest quantity a picker should offer for the line (the API takes 1–99).
export function maxQuantity(line: CartLine): number {
  return Math.max(1, Math.min(99, Math.max(line.available, line.quantity)));
}

// The checkout's refusal for one line (`cart.<listingId>`), said for people.
export function checkoutLineMessage(message: string): string {
  const left = /^only (\d+) available$/.exec(message);
  if (left) {
    return left[1] === "0"
      ? "Sold out: someone else just bought the last one."
      : `Only ${left[1]} available now.`;
  }
  return message.charAt(0).toUpperCase() + message.slice(1) + ".";
}
