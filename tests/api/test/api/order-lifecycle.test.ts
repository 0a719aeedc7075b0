// What happens to an order after checkout: cancelling (with a refund once paid), shipping by
// each seller, delivery, the events that record it all, the order lists of buyers and sellers,
// and nobody else's hands on any of it.
import { describe, expect, it } from "vitest";
import { expectError } from "../../lib/fixtures.js";
import {
  account,
  card,
  confirm,
  fetchOrder,
  listOrders,
  orderAction,
  orderWhen,
  pay,
  placed,
  putInCart,
  readOrder,
  sell,
  ship,
  startPayment,
  stock,
  type Account,
  type FullOrder,
  type OrderPage,
} from "../../lib/payments.js";

const kNoSuchId = 999_999_999_999;

// Two sellers, a buyer, one listing each (stock 5, prices 1000 and 3000) and a pending order for
// 2 of alice's and 1 of bob's.
async function twoSellerOrder() {
  const [alice, bob, buyer] = await Promise.all([account(undefined, "Alice"), account(undefined, "Bob"), account()]);
  const [lamp, chair] = await Promise.all([
    sell(alice.token, { quantity: 5, price_cents: 1000, title: "Brass lamp" }),
    sell(bob.token, { quantity: 5, price_cents: 3000, title: "Oak chair" }),
  ]);
  await putInCart(buyer.token, lamp.id, 2);
  await putInCart(buyer.token, chair.id, 1);
  const order = await placed(buyer.token);
  const lampItem = order.items.find((i) => i.listing_id === lamp.id)!;
  const chairItem = order.items.find((i) => i.listing_id === chair.id)!;
  expect(lampItem && chairItem, JSON.stringify(order.items)).toBeTruthy();
  return { alice, bob, buyer, lamp, chair, order, lampItem, chairItem };
}

async function paidTwoSellerOrder() {
  const setup = await twoSellerOrder();
  const paid = await pay(setup.buyer.token, setup.order.id);
  expect(await stock(setup.lamp.id)).toEqual([3, 3]);
  expect(await stock(setup.chair.id)).toEqual([4, 4]);
  return { ...setup, order: paid };
}

function cancel(token: string | undefined, id: number | string) {
  return orderAction(token, id, "cancel");
}

function deliverItems(token: string, id: number, itemIds?: number[]) {
  return orderAction(token, id, "deliver", itemIds === undefined ? undefined : { item_ids: itemIds });
}

function ok(res: { status: number; text: string; body: FullOrder }): FullOrder {
  expect(res.status, res.text).toBe(200);
  return res.body;
}

// Every event's item is one the viewer sees; oldest first.
function eventsConsistent(order: FullOrder) {
  const shown = new Set(order.items.map((i) => i.id));
  for (const event of order.events) {
    if (event.item_id !== null) expect(shown.has(event.item_id), JSON.stringify(order)).toBe(true);
  }
  const times = order.events.map((e) => Date.parse(e.created_at));
  expect(times, JSON.stringify(order.events)).toEqual([...times].sort((a, b) => a - b));
}

describe("cancelling", () => {
  it("cancels a pending order: the reservation is released and it cannot be paid", async () => {
    const { buyer, lamp, chair, order } = await twoSellerOrder();
    expect(await stock(lamp.id)).toEqual([5, 3]);
    const intent = await startPayment(buyer.token, order.id);
    expect(intent.status, intent.text).toBe(200);

    const cancelled = ok(await cancel(buyer.token, order.id));
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.items.map((i) => i.status)).toEqual(["cancelled", "cancelled"]);
    expect(cancelled.refunds).toEqual([]);
    // Recorded: a new event, the buyer's.
    expect(cancelled.events.length, JSON.stringify(cancelled.events)).toBeGreaterThan(order.events.length);
    expect(
      cancelled.events.slice(order.events.length).some((e) => e.actor === "buyer" && e.item_id === null),
      JSON.stringify(cancelled.events),
    ).toBe(true);
    eventsConsistent(cancelled);
    expect(await stock(lamp.id)).toEqual([5, 5]);
    expect(await stock(chair.id)).toEqual([5, 5]);

    expect(await readOrder(buyer.token, order.id)).toEqual(cancelled);
    expectError(await cancel(buyer.token, order.id), 409, "conflict");
    expectError(await startPayment(buyer.token, order.id), 409, "conflict");
    // The cancelled intent takes no money.
    expectError(await confirm(intent.body.intent_id, card(intent.body.client_secret)), 409, "conflict");
    expect(await stock(lamp.id)).toEqual([5, 5]);
  });

  it("cancels a paid order that has not shipped: refunded in full, stock returned", async () => {
    const { buyer, lamp, chair, order } = await paidTwoSellerOrder();
    const cancelled = ok(await cancel(buyer.token, order.id));
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.items.map((i) => i.status)).toEqual(["cancelled", "cancelled"]);
    expect(cancelled.refunds.length, JSON.stringify(cancelled.refunds)).toBe(1);
    expect(cancelled.refunds[0]).toMatchObject({ amount_cents: 5000, currency: "USD" });
    expect(await stock(lamp.id)).toEqual([5, 5]);
    expect(await stock(chair.id)).toEqual([5, 5]);

    const settled = await orderWhen(buyer.token, order.id, "refund succeeded", (o) =>
      o.refunds.every((r) => r.status === "succeeded"),
    );
    expect(settled.status).toBe("cancelled");
    expect(settled.refunds.length).toBe(1);
    expectError(await cancel(buyer.token, order.id), 409, "conflict");
    expect(await stock(lamp.id)).toEqual([5, 5]);
  });

  it("refuses once an item has shipped: 409 and nothing changes", async () => {
    const { alice, buyer, lamp, chair, order, lampItem, chairItem } = await paidTwoSellerOrder();
    ok(await ship(alice.token, order.id, [lampItem.id]));
    expectError(await cancel(buyer.token, order.id), 409, "conflict");
    const after = await readOrder(buyer.token, order.id);
    expect(after.status).toBe("paid");
    expect(after.refunds).toEqual([]);
    expect(after.items.find((i) => i.id === chairItem.id)!.status).toBe("awaiting_shipment");
    expect(await stock(lamp.id)).toEqual([3, 3]);
    expect(await stock(chair.id)).toEqual([4, 4]);
  });

  it("is the buyer's: a seller of the order gets 403, anyone else 404", async () => {
    const { alice, buyer, lamp, order } = await twoSellerOrder();
    const stranger = await account();
    expectError(await cancel(alice.token, order.id), 403, "forbidden");
    expectError(await cancel(stranger.token, order.id), 404, "not_found");
    expectError(await cancel(buyer.token, kNoSuchId), 404, "not_found");
    expectError(await cancel(buyer.token, "abc"), 404, "not_found");
    expectError(await cancel(undefined, order.id), 401, "unauthenticated");
    expect((await readOrder(buyer.token, order.id)).status).toBe("pending_payment");
    expect(await stock(lamp.id)).toEqual([5, 3]);
  });
});

describe("shipping", () => {
  it("ships the seller's own item with its tracking, and shows the seller only their items", async () => {
    const { alice, buyer, order, lampItem, chairItem } = await paidTwoSellerOrder();
    const res = await ship(alice.token, order.id, [lampItem.id], "  DHL Express ", "JD-0146-0000-1234");
    const seen = ok(res);
    expect(seen.items.map((i) => i.id)).toEqual([lampItem.id]);
    expect(seen.total_cents).toBe(2000);
    const item = seen.items[0]!;
    expect(item).toMatchObject({ status: "shipped", carrier: "DHL Express", tracking_code: "JD-0146-0000-1234" });
    expect(Math.abs(Date.parse(item.shipped_at!) - Date.now())).toBeLessThan(60_000);
    expect(item.delivered_at).toBeNull();
    expect(seen.status).toBe("paid");
    eventsConsistent(seen);
    expect(seen.events.some((e) => e.actor === "seller" && e.item_id === lampItem.id), JSON.stringify(seen.events)).toBe(
      true,
    );

    const full = await readOrder(buyer.token, order.id);
    expect(full.items.find((i) => i.id === lampItem.id)).toEqual(item);
    expect(full.items.find((i) => i.id === chairItem.id)).toMatchObject({
      status: "awaiting_shipment",
      carrier: null,
      tracking_code: null,
      shipped_at: null,
    });
  });

  it("refuses another seller's item (403), a stranger (404), a second shipment (409)", async () => {
    const { alice, bob, buyer, order, lampItem, chairItem } = await paidTwoSellerOrder();
    const stranger = await account();
    expectError(await ship(bob.token, order.id, [lampItem.id]), 403, "forbidden");
    expectError(await ship(bob.token, order.id, [chairItem.id, lampItem.id]), 403, "forbidden");
    expectError(await ship(stranger.token, order.id, [lampItem.id]), 404, "not_found");
    // The buyer is part of the order, but it is not theirs to ship.
    expectError(await ship(buyer.token, order.id, [lampItem.id]), 403, "forbidden");
    expectError(await ship(alice.token, kNoSuchId, [lampItem.id]), 404, "not_found");
    // None of that shipped anything, bob's own item included.
    const untouched = await readOrder(buyer.token, order.id);
    expect(untouched.items.map((i) => i.status)).toEqual(["awaiting_shipment", "awaiting_shipment"]);

    ok(await ship(alice.token, order.id, [lampItem.id]));
    expectError(await ship(alice.token, order.id, [lampItem.id]), 409, "conflict");
    const after = await readOrder(buyer.token, order.id);
    expect(after.items.find((i) => i.id === lampItem.id)!.status).toBe("shipped");
  });

  it("refuses to ship an unpaid order: 409", async () => {
    const { alice, buyer, order, lampItem } = await twoSellerOrder();
    expectError(await ship(alice.token, order.id, [lampItem.id]), 409, "conflict");
    expect((await readOrder(buyer.token, order.id)).items.map((i) => i.status)).toEqual([
      "pending_payment",
      "pending_payment",
    ]);
  });

  it.each([
    ["tracking_code", { tracking_code: "abc" }],
    ["tracking_code", { tracking_code: "has space 123" }],
    ["tracking_code", { tracking_code: "x".repeat(41) }],
    ["tracking_code", { tracking_code: "ÄÖÜ12345" }],
    ["carrier", { carrier: "" }],
    ["carrier", { carrier: "c".repeat(41) }],
    ["item_ids", { item_ids: [] }],
    ["item_ids", { item_ids: "1" }],
    ["item_ids", { item_ids: [0] }],
    ["item_ids", { item_ids: [kNoSuchId] }],
    ["extra", { extra: true }],
  ])("answers 422 naming %s (%j) and ships nothing", async (field, overrides) => {
    const { alice, buyer, order, lampItem } = await paidTwoSellerOrder();
    const json = { item_ids: [lampItem.id], carrier: "UPS", tracking_code: "1Z999AA10123456784", ...overrides };
    expectError(await orderAction(alice.token, order.id, "ship", json), 422, "validation_failed", [field]);
    expect((await readOrder(buyer.token, order.id)).items.every((i) => i.status === "awaiting_shipment")).toBe(true);
  });

  it("answers 422 for an item id of another order, and for a missing body field", async () => {
    const first = await paidTwoSellerOrder();
    const { alice, order, lampItem } = first;
    const other = await twoSellerOrder();
    expectError(
      await orderAction(alice.token, order.id, "ship", {
        item_ids: [lampItem.id, other.lampItem.id],
        carrier: "UPS",
        tracking_code: "1Z999AA1",
      }),
      422,
      "validation_failed",
      ["item_ids"],
    );
    expectError(await orderAction(alice.token, order.id, "ship", { item_ids: [lampItem.id], carrier: "UPS" }), 422, "validation_failed", [
      "tracking_code",
    ]);
    expect((await readOrder(first.buyer.token, order.id)).items.every((i) => i.status === "awaiting_shipment")).toBe(true);
  });
});

describe("a seller refunding lines", () => {
  function refund(token: string, id: number, itemIds: unknown, reason?: unknown) {
    return orderAction(token, id, "refund", reason === undefined ? { item_ids: itemIds } : { item_ids: itemIds, reason });
  }
  const settled = (token: string, id: number, count: number) =>
    orderWhen(token, id, `${count} succeeded refunds`, (o) =>
      o.refunds.length === count && o.refunds.every((r) => r.status === "succeeded"),
    );

  it("cancels and refunds one seller's line; the other seller ships, and the buyer keeps paying only for it", async () => {
    const { alice, bob, buyer, lamp, chair, order, lampItem, chairItem } = await paidTwoSellerOrder();
    const seen = ok(await refund(alice.token, order.id, [lampItem.id], "  Broken in storage, sorry.  "));
    // Alice's view: her line only, cancelled, with its refund.
    expect(seen.items.map((i) => [i.id, i.status])).toEqual([[lampItem.id, "cancelled"]]);
    expect(seen.status).toBe("paid");
    expect(seen.refunds).toMatchObject([{ amount_cents: 2000, currency: "USD", item_id: lampItem.id, reason: "refunded_by_seller" }]);
    expect(seen.events.some((e) => e.type === "item.refunded" && e.item_id === lampItem.id && e.actor === "seller")).toBe(true);
    eventsConsistent(seen);
    // The lamp's two units are for sale again; the chair is untouched.
    expect(await stock(lamp.id)).toEqual([5, 5]);
    expect(await stock(chair.id)).toEqual([4, 4]);

    // Bob sees neither Alice's line nor its refund, and ships his own.
    const bobs = await readOrder(bob.token, order.id);
    expect(bobs.items.map((i) => i.id)).toEqual([chairItem.id]);
    expect(bobs.refunds).toEqual([]);
    eventsConsistent(bobs);
    ok(await ship(bob.token, order.id, [chairItem.id]));

    const buyers = await settled(buyer.token, order.id, 1);
    expect(buyers.status).toBe("paid");
    expect(buyers.total_cents).toBe(5000);
    expect(buyers.items.find((i) => i.id === lampItem.id)!.status).toBe("cancelled");
    expect(buyers.items.find((i) => i.id === chairItem.id)!.status).toBe("shipped");
    // Delivering the rest completes the order.
    const done = ok(await deliverItems(buyer.token, order.id));
    expect(done.status).toBe("completed");
    expect(await stock(lamp.id)).toEqual([5, 5]);
    expect(await stock(chair.id)).toEqual([4, 4]);
  });

  it("gives the buyer who cancels the rest back only what was not refunded", async () => {
    const { alice, buyer, lamp, chair, order, lampItem } = await paidTwoSellerOrder();
    ok(await refund(alice.token, order.id, [lampItem.id]));
    const cancelled = ok(await cancel(buyer.token, order.id));
    expect(cancelled.status).toBe("cancelled");
    const refunds = (await settled(buyer.token, order.id, 2)).refunds;
    expect(refunds.map((r) => [r.amount_cents, r.item_id])).toEqual([
      [2000, lampItem.id],
      [3000, null],
    ]);
    // Every unit back exactly once.
    expect(await stock(lamp.id)).toEqual([5, 5]);
    expect(await stock(chair.id)).toEqual([5, 5]);
  });

  it("cancels the order when every line is refunded, and a completed rest completes it", async () => {
    const { alice, bob, buyer, lamp, chair, order, lampItem, chairItem } = await paidTwoSellerOrder();
    ok(await refund(alice.token, order.id, [lampItem.id]));
    const last = ok(await refund(bob.token, order.id, [chairItem.id]));
    expect(last.status).toBe("cancelled");
    const buyers = await settled(buyer.token, order.id, 2);
    expect(buyers.status).toBe("cancelled");
    expect(buyers.refunds.reduce((sum, r) => sum + r.amount_cents, 0)).toBe(order.total_cents);
    expect(await stock(lamp.id)).toEqual([5, 5]);
    expect(await stock(chair.id)).toEqual([5, 5]);
    expectError(await cancel(buyer.token, order.id), 409, "conflict");

    // Shipped and delivered first, then the other line refunded: the order is completed.
    const second = await paidTwoSellerOrder();
    ok(await ship(second.alice.token, second.order.id, [second.lampItem.id]));
    ok(await deliverItems(second.buyer.token, second.order.id));
    ok(await refund(second.bob.token, second.order.id, [second.chairItem.id]));
    expect((await readOrder(second.buyer.token, second.order.id)).status).toBe("completed");
  });

  it("refuses what is not the seller's to refund, or not refundable now, and changes nothing", async () => {
    const { alice, bob, buyer, lamp, chair, order, lampItem, chairItem } = await paidTwoSellerOrder();
    const stranger = await account();
    expectError(await refund(buyer.token, order.id, [lampItem.id]), 403, "forbidden");
    expectError(await refund(stranger.token, order.id, [lampItem.id]), 404, "not_found");
    expectError(await refund(alice.token, kNoSuchId, [lampItem.id]), 404, "not_found");
    expectError(await refund(alice.token, order.id, [chairItem.id]), 403, "forbidden");
    expectError(await refund(alice.token, order.id, [lampItem.id, chairItem.id]), 403, "forbidden");
    expectError(await refund(alice.token, order.id, [kNoSuchId]), 422, "validation_failed", ["item_ids"]);
    for (const bad of [[], [lampItem.id, lampItem.id], "17", [0], [1.5], Array.from({ length: 51 }, (_, i) => i + 1)]) {
      expectError(await refund(alice.token, order.id, bad), 422, "validation_failed");
    }
    expectError(await refund(alice.token, order.id, [lampItem.id], "x".repeat(201)), 422, "validation_failed", ["reason"]);
    expectError(await refund(alice.token, order.id, [lampItem.id], "two\nlines"), 422, "validation_failed", ["reason"]);
    expectError(await refund(alice.token, order.id, [lampItem.id], 5), 422, "validation_failed", ["reason"]);
    expectError(await orderAction(alice.token, order.id, "refund", { item_ids: [lampItem.id], amount_cents: 1 }), 422, "validation_failed", ["amount_cents"]);
    // Shipped: too late to refund it this way.
    ok(await ship(bob.token, order.id, [chairItem.id]));
    expectError(await refund(bob.token, order.id, [chairItem.id]), 409, "conflict");

    const after = await readOrder(buyer.token, order.id);
    expect(after.refunds).toEqual([]);
    expect(after.items.find((i) => i.id === lampItem.id)!.status).toBe("awaiting_shipment");
    expect(await stock(lamp.id)).toEqual([3, 3]);
    expect(await stock(chair.id)).toEqual([4, 4]);

    // Refunded once; a second time is a conflict and refunds nothing more.
    ok(await refund(alice.token, order.id, [lampItem.id]));
    expectError(await refund(alice.token, order.id, [lampItem.id]), 409, "conflict");
    expect((await settled(buyer.token, order.id, 1)).refunds).toHaveLength(1);
    expect(await stock(lamp.id)).toEqual([5, 5]);
  });

  it("refuses an unpaid order's lines", async () => {
    const { alice, order, lampItem, lamp } = await twoSellerOrder();
    expectError(await refund(alice.token, order.id, [lampItem.id]), 409, "conflict");
    expect(await stock(lamp.id)).toEqual([5, 3]);
  });

  it("never refunds more than was paid when the seller's refund races the buyer's cancel", async () => {
    for (let round = 0; round < 5; round++) {
      const { alice, buyer, lamp, chair, order, lampItem } = await paidTwoSellerOrder();
      const [refunded, cancelled] = await Promise.all([
        refund(alice.token, order.id, [lampItem.id]),
        cancel(buyer.token, order.id),
      ]);
      expect([200, 409]).toContain(refunded.status);
      expect(cancelled.status, cancelled.text).toBe(200);
      const final = await orderWhen(buyer.token, order.id, "refunds settled", (o) =>
        o.refunds.length > 0 && o.refunds.every((r) => r.status === "succeeded"),
      );
      expect(final.status).toBe("cancelled");
      expect(final.refunds.reduce((sum, r) => sum + r.amount_cents, 0)).toBe(order.total_cents);
      expect(await stock(lamp.id)).toEqual([5, 5]);
      expect(await stock(chair.id)).toEqual([5, 5]);
    }
  });
});

describe("delivery", () => {
  it("the buyer confirms item by item; the order completes when every item is delivered", async () => {
    const { alice, bob, buyer, order, lampItem, chairItem } = await paidTwoSellerOrder();
    // Nothing shipped yet: nothing to deliver.
    expectError(await deliverItems(buyer.token, order.id, [lampItem.id]), 409, "conflict");

    ok(await ship(alice.token, order.id, [lampItem.id]));
    const partly = ok(await deliverItems(buyer.token, order.id, [lampItem.id]));
    expect(partly.status).toBe("paid");
    const lamp = partly.items.find((i) => i.id === lampItem.id)!;
    expect(lamp.status).toBe("delivered");
    expect(lamp.delivered_at).not.toBeNull();
    expect(Date.parse(lamp.delivered_at!)).toBeGreaterThanOrEqual(Date.parse(lamp.shipped_at!));
    expect(partly.items.find((i) => i.id === chairItem.id)!.status).toBe("awaiting_shipment");
    // Delivered once.
    expectError(await deliverItems(buyer.token, order.id, [lampItem.id]), 409, "conflict");
    // The chair has not shipped.
    expectError(await deliverItems(buyer.token, order.id, [chairItem.id]), 409, "conflict");

    ok(await ship(bob.token, order.id, [chairItem.id]));
    // No item_ids: every shipped item.
    const done = ok(await deliverItems(buyer.token, order.id));
    expect(done.status).toBe("completed");
    expect(done.items.map((i) => i.status)).toEqual(["delivered", "delivered"]);

    // Completed is final.
    expectError(await cancel(buyer.token, order.id), 409, "conflict");
    expectError(await ship(bob.token, order.id, [chairItem.id]), 409, "conflict");
    expectError(await startPayment(buyer.token, order.id), 409, "conflict");

    // The whole story, in order: placed, paid, two shipments, two deliveries, completed.
    const story = await readOrder(buyer.token, order.id);
    eventsConsistent(story);
    const actors = story.events.map((e) => e.actor);
    expect(actors[0], JSON.stringify(story.events)).toBe("buyer");
    expect(story.events.some((e) => e.actor === "provider" || e.actor === "system")).toBe(true);
    for (const id of [lampItem.id, chairItem.id]) {
      expect(story.events.filter((e) => e.item_id === id && e.actor === "seller").length, JSON.stringify(story.events)).toBe(1);
      expect(story.events.filter((e) => e.item_id === id && e.actor === "buyer").length, JSON.stringify(story.events)).toBe(1);
    }

    // Each seller sees the order's own events and their items' only.
    const aliceView = await readOrder(alice.token, order.id);
    expect(aliceView.status).toBe("completed");
    expect(aliceView.items.map((i) => i.id)).toEqual([lampItem.id]);
    eventsConsistent(aliceView);
    expect(aliceView.events.some((e) => e.item_id === chairItem.id)).toBe(false);
    expect(aliceView.events.filter((e) => e.item_id === null)).toEqual(story.events.filter((e) => e.item_id === null));
  });

  it("refuses the seller before 14 days, and a stranger", async () => {
    const { alice, buyer, order, lampItem } = await paidTwoSellerOrder();
    const stranger = await account();
    ok(await ship(alice.token, order.id, [lampItem.id]));
    expectError(await deliverItems(alice.token, order.id, [lampItem.id]), 409, "conflict");
    expectError(await deliverItems(alice.token, order.id), 409, "conflict");
    expectError(await deliverItems(stranger.token, order.id, [lampItem.id]), 404, "not_found");
    expect((await readOrder(buyer.token, order.id)).items.find((i) => i.id === lampItem.id)!.status).toBe("shipped");
  });
});

describe("listing orders", () => {
  async function page(token: string, params: Record<string, string | number | undefined>): Promise<OrderPage> {
    const res = await listOrders(token, params);
    expect(res.status, res.text).toBe(200);
    return res.body;
  }

  async function all(token: string, params: Record<string, string | number | undefined>) {
    const pages: FullOrder[][] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 20; i++) {
      const got = await page(token, { ...params, cursor });
      pages.push(got.items);
      if (got.next_cursor === null) return pages;
      cursor = got.next_cursor;
    }
    throw new Error("still a next_cursor after 20 pages");
  }

  // A buyer with 3 orders, each of one line of alice's and one of bob's (paid: the first).
  async function threeOrders() {
    const [alice, bob, buyer] = await Promise.all([account(), account(), account()]);
    const [lamp, chair] = await Promise.all([
      sell(alice.token, { quantity: 10, price_cents: 1000 }),
      sell(bob.token, { quantity: 10, price_cents: 3000 }),
    ]);
    const orders: FullOrder[] = [];
    for (let i = 0; i < 3; i++) {
      await putInCart(buyer.token, lamp.id, 1);
      await putInCart(buyer.token, chair.id, 1);
      orders.push(await placed(buyer.token));
    }
    await pay(buyer.token, orders[0]!.id);
    return { alice, bob, buyer, lamp, chair, orders };
  }

  it("pages the buyer's orders newest first, 2 at a time", async () => {
    const { buyer, orders } = await threeOrders();
    const ids = orders.map((o) => o.id).reverse();
    const pages = await all(buyer.token, { limit: 2 });
    expect(pages.map((p) => p.map((o) => o.id))).toEqual([ids.slice(0, 2), ids.slice(2)]);
    const listed = pages.flat();
    for (const order of listed) {
      expect(order.items.length).toBe(2);
      expect(order.total_cents).toBe(4000);
      expect(order.buyer.username).toBe(buyer.username);
      expect(order).toEqual(await readOrder(buyer.token, order.id));
    }
    // role=buyer is the default.
    expect((await page(buyer.token, { role: "buyer", limit: 2 })).items.map((o) => o.id)).toEqual(ids.slice(0, 2));
    // Default limit: all three on one page.
    const one = await page(buyer.token, {});
    expect(one.items.map((o) => o.id)).toEqual(ids);
    expect(one.next_cursor).toBeNull();
    // Filtered by state.
    expect((await page(buyer.token, { status: "paid" })).items.map((o) => o.id)).toEqual([orders[0]!.id]);
    expect((await page(buyer.token, { status: "pending_payment" })).items.map((o) => o.id)).toEqual(ids.slice(0, 2));
    expect((await page(buyer.token, { status: "cancelled" })).items).toEqual([]);
  });

  it("shows a seller the orders with their items, and only those items", async () => {
    const { alice, bob, buyer, lamp, orders } = await threeOrders();
    const ids = orders.map((o) => o.id).reverse();
    const pages = await all(alice.token, { role: "seller", limit: 2 });
    expect(pages.map((p) => p.map((o) => o.id))).toEqual([ids.slice(0, 2), ids.slice(2)]);
    for (const order of pages.flat()) {
      expect(order.items.map((i) => i.listing_id)).toEqual([lamp.id]);
      expect(order.total_cents).toBe(1000);
      expect(order.buyer.username).toBe(buyer.username);
      eventsConsistent(order);
    }
    expect((await page(bob.token, { role: "seller" })).items.map((o) => o.id)).toEqual(ids);
    // Neither seller bought anything; the buyer sold nothing.
    expect((await page(alice.token, {})).items).toEqual([]);
    expect((await page(buyer.token, { role: "seller" })).items).toEqual([]);
    expect((await page(alice.token, { role: "seller", status: "paid" })).items.map((o) => o.id)).toEqual([
      orders[0]!.id,
    ]);
  });

  it.each([
    [{ role: "admin" }],
    [{ status: "shipped" }],
    [{ limit: 0 }],
    [{ limit: 101 }],
    [{ limit: "ten" }],
    [{ cursor: "not-a-cursor" }],
  ])("answers 400 bad_request for %j", async (params) => {
    const buyer = await account();
    expectError(await listOrders(buyer.token, params), 400, "bad_request");
  });

  it("answers 401 without a token", async () => {
    expectError(await listOrders(undefined as unknown as string), 401, "unauthenticated");
  });
});

describe("another user's order", () => {
  it("is 404 to a stranger for every action, and nothing changes", async () => {
    const { buyer, lamp, order, lampItem } = await twoSellerOrder();
    const stranger: Account = await account();
    const before = await readOrder(buyer.token, order.id);

    expectError(await orderAction(stranger.token, order.id, "cancel"), 404, "not_found");
    expectError(await orderAction(stranger.token, order.id, "payment"), 404, "not_found");
    expectError(await ship(stranger.token, order.id, [lampItem.id]), 404, "not_found");
    expectError(await orderAction(stranger.token, order.id, "deliver"), 404, "not_found");
    expectError(await fetchOrder(stranger.token, order.id), 404, "not_found");
    // The stranger's lists do not show it either.
    for (const role of ["buyer", "seller"]) {
      const res = await listOrders(stranger.token, { role });
      expect(res.status, res.text).toBe(200);
      expect(res.body.items).toEqual([]);
    }

    expect(await readOrder(buyer.token, order.id)).toEqual(before);
    expect(await stock(lamp.id)).toEqual([5, 3]);
    // And the buyer's order is still theirs to pay.
    const paid = await pay(buyer.token, order.id);
    expect(paid.status).toBe("paid");
  });

  it("is 404 to a stranger also once paid: no cancel, no ship", async () => {
    const { buyer, lamp, order, lampItem } = await paidTwoSellerOrder();
    const stranger = await account();
    expectError(await orderAction(stranger.token, order.id, "cancel"), 404, "not_found");
    expectError(await ship(stranger.token, order.id, [lampItem.id]), 404, "not_found");
    const after = await readOrder(buyer.token, order.id);
    expect(after.status).toBe("paid");
    expect(after.items.every((i) => i.status === "awaiting_shipment")).toBe(true);
    expect(await stock(lamp.id)).toEqual([3, 3]);
  });
});
