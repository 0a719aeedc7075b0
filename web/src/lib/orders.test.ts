import { describe, expect, it } from "vitest";
import type { Order } from "../api/types";
import { pendingOrderPolling } from "./orders";

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
