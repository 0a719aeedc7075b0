import { describe, expect, it } from "vitest";
import type { Order } from "../api/types";
import { describeEvent, describeRefund, pendingOrderPolling } from "./orders";

function order(status: Order["status"], expiresInMs: number): Order {
  return {
    status,
    expires_at: new Date(Date.now() + expiresInMs).toISOString(),
  } as Order;
}

describe("pendingOrderPolling", () => {
  it("asks again just after the deadline of a pending order", () => {
    const wait = pendingOrderPolling(order("pending_payment", 60_000));
    expect(wait).toBeGreaterThan(60_000);
    expect(wait).toBeLessThanOrEqual(60_250);
  });
  it("asks every second past the deadline until the server calls the order expired", () => {
    expect(pendingOrderPolling(order("pending_payment", -5_000))).toBe(1000);
    expect(pendingOrderPolling(order("expired", -5_000))).toBe(false);
  });
  it("asks quickly after the card was accepted, until the order is paid", () => {
    expect(pendingOrderPolling(order("pending_payment", 60_000), true)).toBe(
      500,
    );
    expect(pendingOrderPolling(order("paid", 60_000), true)).toBe(false);
  });
});

describe("describeEvent", () => {
  const items = [{ id: 17, title: "Brass lamp" }] as Order["items"];
  const at = "2026-01-01T00:00:00Z";

  it("says what happened to the order and who did it", () => {
    expect(
      describeEvent(
        { type: "order.placed", item_id: null, actor: "buyer", created_at: at },
        items,
      ),
    ).toBe("Order placed, by the buyer");
    expect(
      describeEvent(
        {
          type: "payment.failed",
          item_id: null,
          actor: "provider",
          created_at: at,
        },
        items,
      ),
    ).toBe("Payment failed, by the payment provider");
  });

  it("names the item of an item's event by its title", () => {
    expect(
      describeEvent(
        { type: "item.shipped", item_id: 17, actor: "seller", created_at: at },
        items,
      ),
    ).toBe("Item shipped: Brass lamp, by the seller");
    expect(
      describeEvent(
        { type: "expired", item_id: 99, actor: "system", created_at: at },
        items,
      ),
    ).toBe("Expired: item 99, automatically");
  });
});

describe("describeRefund", () => {
  const items = [{ id: 17, title: "Brass lamp" }] as Order["items"];
  const money = (cents: number, currency: string) => `${currency} ${cents}`;
  const refund = (over: Partial<Order["refunds"][number]>) =>
    ({
      amount_cents: 2000,
      currency: "USD",
      reason: "refunded_by_seller",
      status: "pending",
      item_id: 17,
      created_at: "2026-11-29T12:00:00Z",
      ...over,
    }) as Order["refunds"][number];

  it("names the line a seller refunded and why, in words", () => {
    expect(describeRefund(refund({}), items, money)).toBe(
      "Refund of USD 2000 for Brass lamp (pending): the seller could not ship it",
    );
  });
  it("describes a refund of the whole payment without a line", () => {
    expect(
      describeRefund(
        refund({
          item_id: null,
          reason: "cancelled_by_buyer",
          status: "succeeded",
        }),
        items,
        money,
      ),
    ).toBe("Refund of USD 2000 (succeeded): the order was cancelled");
  });
  it("falls back to the code's words for a reason it does not know", () => {
    expect(
      describeRefund(
        refund({ item_id: 99, reason: "some_new_reason" }),
        items,
        money,
      ),
    ).toBe("Refund of USD 2000 for item 99 (pending): some new reason");
  });
});
