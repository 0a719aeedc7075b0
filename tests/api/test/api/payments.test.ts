// Paying orders through the built-in `local` gateway: intents, test cards, the signed webhook
// (exactly-once, signature checks, events that do not match the order) and a payment that arrives
// after the order expired.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectError } from "../../lib/fixtures.js";
import {
  account,
  card,
  confirm,
  deliver,
  deliverSigned,
  eventBody,
  eventId,
  hmacHex,
  intentFor,
  kCards,
  orderWhen,
  paidOrder,
  placed,
  putInCart,
  readOrder,
  sell,
  signature,
  sleep,
  startPayment,
  stock,
  unixNow,
  webhookSecret,
  type Account,
  type FullOrder,
  type PaymentIntent,
} from "../../lib/payments.js";
import { kCleanExit, type RunningServer, startServer } from "../../lib/server.js";

// A seller, a buyer, a listing of 5 at `price` and a pending order for 2 of it.
async function pendingOrder(price = 1250, baseUrl?: string) {
  const [seller, buyer] = await Promise.all([account(baseUrl), account(baseUrl)]);
  const item = await sell(seller.token, { quantity: 5, price_cents: price }, baseUrl);
  await putInCart(buyer.token, item.id, 2, baseUrl);
  const order = await placed(buyer.token, baseUrl);
  expect(order.total_cents).toBe(2 * price);
  expect(await stock(item.id, baseUrl)).toEqual([5, 3]);
  return { seller, buyer, item, order };
}

async function pendingOrderWithIntent(price = 1250) {
  const setup = await pendingOrder(price);
  const intent = await intentFor(setup.buyer.token, setup.order.id);
  return { ...setup, intent };
}

// The event that the gateway would send for this order's successful payment.
function succeededBody(order: FullOrder, intent: PaymentIntent, overrides: Partial<Parameters<typeof eventBody>[0]> = {}) {
  return eventBody({ intentId: intent.intent_id, amount: order.total_cents, orderId: order.id, ...overrides });
}

async function expectStillPending(buyer: Account, orderId: number, listingId: number, stockNow: [number, number]) {
  const order = await readOrder(buyer.token, orderId);
  expect(order.status, JSON.stringify(order)).toBe("pending_payment");
  expect(order.payment.paid_at).toBeNull();
  expect(order.items.every((item) => item.status === "pending_payment"), JSON.stringify(order.items)).toBe(true);
  expect(await stock(listingId)).toEqual(stockNow);
}

// No order-level transition recorded twice (e.g. two "paid" events for one payment).
function expectNoRepeatedOrderEvents(order: FullOrder) {
  const types = order.events.filter((e) => e.item_id === null).map((e) => e.type);
  expect(types, JSON.stringify(order.events)).toEqual([...new Set(types)]);
}

describe("paying an order", () => {
  it("gives the same intent on every call; the confirmed payment pays the order and takes the stock", async () => {
    const { buyer, item, order } = await pendingOrder(1250);
    expect(order.payment.intent_id).toBeNull();
    expect(order.payment.paid_at).toBeNull();
    expect([null, "local"]).toContain(order.payment.provider);

    const first = await startPayment(buyer.token, order.id);
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ provider: "local", amount_cents: 2500, currency: "USD" });
    const again = await startPayment(buyer.token, order.id);
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(first.body);
    const intent = first.body;
    expect((await readOrder(buyer.token, order.id)).payment).toEqual({
      provider: "local",
      intent_id: intent.intent_id,
      paid_at: null,
    });

    const confirmed = await confirm(intent.intent_id, card(intent.client_secret, kCards.succeeds));
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body).toEqual({ id: intent.intent_id, status: "succeeded", amount_cents: 2500, currency: "USD" });

    const paid = await paidOrder(buyer.token, order.id);
    expect(paid.items.map((i) => i.status)).toEqual(["awaiting_shipment"]);
    expect(paid.payment.intent_id).toBe(intent.intent_id);
    expect(paid.payment.paid_at).not.toBeNull();
    expect(paid.refunds).toEqual([]);
    expect(paid.events.some((e) => e.actor === "provider"), JSON.stringify(paid.events)).toBe(true);
    expect(Date.parse(paid.updated_at)).toBeGreaterThanOrEqual(Date.parse(order.updated_at));
    expectNoRepeatedOrderEvents(paid);

    // Paying took the stock for good and ended the reservation: available did not move.
    expect(await stock(item.id)).toEqual([3, 3]);

    // Paid: no more intents, no second charge.
    expectError(await startPayment(buyer.token, order.id), 409, "conflict");
    expectError(await confirm(intent.intent_id, card(intent.client_secret)), 409, "conflict");
    await sleep(300);
    const later = await readOrder(buyer.token, order.id);
    expect(later.status).toBe("paid");
    expect(later.refunds).toEqual([]);
    expect(await stock(item.id)).toEqual([3, 3]);
  });

  it("accepts a card number without spaces", async () => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    const res = await confirm(intent.intent_id, card(intent.client_secret, kCards.succeeds.replace(/ /g, "")));
    expect(res.status, res.text).toBe(200);
    await paidOrder(buyer.token, order.id);
    expect(await stock(item.id)).toEqual([3, 3]);
  });

  it("declined cards answer 402 and leave the order pending; another card then pays it", async () => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();

    expectError(await confirm(intent.intent_id, card(intent.client_secret, kCards.declined)), 402, "card_declined");
    expectError(
      await confirm(intent.intent_id, card(intent.client_secret, kCards.insufficientFunds)),
      402,
      "insufficient_funds",
    );
    // Test mode accepts only the test cards: a real-looking card is declined.
    expectError(await confirm(intent.intent_id, card(intent.client_secret, kCards.otherValid)), 402, "card_declined");

    // The failures reach the webhook too; give them time to be processed, then check nothing moved.
    await sleep(500);
    await expectStillPending(buyer, order.id, item.id, [5, 3]);
    expect((await readOrder(buyer.token, order.id)).refunds).toEqual([]);

    // Same intent, another card: paid.
    const again = await intentFor(buyer.token, order.id);
    expect(again).toEqual(intent);
    const ok = await confirm(intent.intent_id, card(intent.client_secret, kCards.succeeds));
    expect(ok.status, ok.text).toBe(200);
    await paidOrder(buyer.token, order.id);
    expect(await stock(item.id)).toEqual([3, 3]);
  });

  it("answers 404 for a wrong client_secret or an unknown intent, and charges nothing", async () => {
    const other = await pendingOrderWithIntent();
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    expectError(await confirm(intent.intent_id, card(`${intent.client_secret}x`)), 404, "not_found");
    expectError(await confirm(intent.intent_id, card("pi_nothing_secret_nothing")), 404, "not_found");
    // Another intent's secret is no key to this one.
    expectError(await confirm(intent.intent_id, card(other.intent.client_secret)), 404, "not_found");
    expectError(await confirm("pi_does_not_exist", card(intent.client_secret)), 404, "not_found");
    expectError(await confirm(`${intent.intent_id}x`, card(intent.client_secret)), 404, "not_found");
    await sleep(300);
    await expectStillPending(buyer, order.id, item.id, [5, 3]);
    await expectStillPending(other.buyer, other.order.id, other.item.id, [5, 3]);
  });

  it("confirms once: 5 concurrent confirmations give one 200 and 409s, and the order is paid once", async () => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => confirm(intent.intent_id, card(intent.client_secret))),
    );
    const texts = answers.map((r) => `${r.status} ${r.text}`).join("\n");
    expect(answers.filter((r) => r.status === 200).length, texts).toBe(1);
    for (const res of answers.filter((r) => r.status !== 200)) expectError(res, 409, "conflict");
    const paid = await paidOrder(buyer.token, order.id);
    await sleep(300);
    expect(await stock(item.id)).toEqual([3, 3]);
    const later = await readOrder(buyer.token, order.id);
    expect(later.events).toEqual(paid.events);
    expectNoRepeatedOrderEvents(later);
  });

  const year = new Date().getUTCFullYear();
  it.each([
    ["card_number", { card_number: "4242 4242 4242 4241" }],
    ["card_number", { card_number: "4242-4242-4242-4242" }],
    ["card_number", { card_number: "abcd efgh ijkl mnop" }],
    ["card_number", { card_number: "" }],
    ["card_number", { card_number: 4242424242424242 }],
    ["exp_month", { exp_month: 13 }],
    ["exp_month", { exp_month: 0 }],
    ["exp_month", { exp_month: "12" }],
    ["cvc", { cvc: "12" }],
    ["cvc", { cvc: "12345" }],
    ["cvc", { cvc: "12a" }],
    ["cvc", { cvc: 123 }],
    ["amount_cents", { amount_cents: 1 }],
  ])("answers 422 naming %s (%j), and the intent can still be paid", async (field, overrides) => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    expectError(
      await confirm(intent.intent_id, card(intent.client_secret, kCards.succeeds, overrides)),
      422,
      "validation_failed",
      [field],
    );
    await expectStillPending(buyer, order.id, item.id, [5, 3]);
    const ok = await confirm(intent.intent_id, card(intent.client_secret));
    expect(ok.status, ok.text).toBe(200);
    await paidOrder(buyer.token, order.id);
  });

  it("answers 422 for an expired card or missing fields", async () => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    const expired = await confirm(intent.intent_id, card(intent.client_secret, kCards.succeeds, { exp_year: year - 1 }));
    const body = expectError(expired, 422, "validation_failed");
    const named = (body.error.fields ?? []).map((f) => f.field);
    expect(named.length, expired.text).toBeGreaterThan(0);
    expect(named.every((f) => f === "exp_year" || f === "exp_month"), expired.text).toBe(true);

    for (const missing of ["client_secret", "card_number", "exp_month", "exp_year", "cvc"]) {
      const json: Record<string, unknown> = card(intent.client_secret);
      delete json[missing];
      expectError(await confirm(intent.intent_id, json), 422, "validation_failed", [missing]);
    }
    await expectStillPending(buyer, order.id, item.id, [5, 3]);
  });

  it("gives the intent to the buyer only: anyone else 404, the seller 404 too", async () => {
    const { seller, buyer, order } = await pendingOrder();
    const stranger = await account();
    expectError(await startPayment(stranger.token, order.id), 404, "not_found");
    expectError(await startPayment(seller.token, order.id), 404, "not_found");
    expectError(await startPayment(buyer.token, 999_999_999_999), 404, "not_found");
    expectError(await startPayment(buyer.token, "abc" as unknown as number), 404, "not_found");
    const unauthenticated = await startPayment(undefined as unknown as string, order.id);
    expectError(unauthenticated, 401, "unauthenticated");
    // Nobody's attempt created an intent.
    expect((await readOrder(buyer.token, order.id)).payment.intent_id).toBeNull();
  });
});

describe("the payment webhook", () => {
  it("pays once and takes the stock once when the same event is delivered 5 times concurrently", async () => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    const body = succeededBody(order, intent);
    const header = signature(body);
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(body, header)));
    for (const res of answers) {
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ received: true });
    }
    const paid = await paidOrder(buyer.token, order.id);
    expect(paid.items.map((i) => i.status)).toEqual(["awaiting_shipment"]);
    expect(paid.payment.paid_at).not.toBeNull();
    expectNoRepeatedOrderEvents(paid);
    expect(paid.events.filter((e) => e.actor === "provider").length, JSON.stringify(paid.events)).toBe(1);
    expect(await stock(item.id)).toEqual([3, 3]);

    // Later duplicates, freshly signed, change nothing either.
    await deliverSigned(body);
    await deliverSigned(body);
    const later = await readOrder(buyer.token, order.id);
    expect(later.events).toEqual(paid.events);
    expect(later.refunds).toEqual([]);
    expect(await stock(item.id)).toEqual([3, 3]);
  });

  // Each case: the Local-Signature header sent with the (correct) event body, or a body of its own.
  const kBadDeliveries: [string, (body: string, order: FullOrder, intent: PaymentIntent) => { header: string | null; sent?: string }][] = [
    ["no Local-Signature header", () => ({ header: null })],
    ["a signature made with another secret", (body) => ({ header: signature(body, { secret: "not-the-secret" }) })],
    ["a timestamp 6 minutes old", (body) => ({ header: signature(body, { t: unixNow() - 360 }) })],
    ["a timestamp an hour old", (body) => ({ header: signature(body, { t: unixNow() - 3600 }) })],
    [
      "a tampered body (signed with another amount)",
      (body, order, intent) => ({ header: signature(succeededBody(order, intent, { amount: order.total_cents + 100 })), sent: body }),
    ],
    ["a body with a byte appended", (body) => ({ header: signature(body), sent: `${body} ` })],
    ["a header without t", (body) => ({ header: `v1=${hmacHex(webhookSecret(), unixNow(), body)}` })],
    ["a header without v1", () => ({ header: `t=${unixNow()}` })],
    ["the right HMAC under v0", (body) => {
      const t = unixNow();
      return { header: `t=${t},v0=${hmacHex(webhookSecret(), t, body)}` };
    }],
    ["a v1 that is not hex", () => ({ header: `t=${unixNow()},v1=not-hex-at-all` })],
    [
      "an HMAC over the body without the timestamp",
      (body) => ({ header: `t=${unixNow()},v1=${createHmac("sha256", webhookSecret()).update(body).digest("hex")}` }),
    ],
    ["garbage", () => ({ header: "garbage" })],
    ["an empty header", () => ({ header: "" })],
  ];

  it.each(kBadDeliveries)("answers 400 invalid_signature for %s, and nothing changes", async (_name, make) => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    const id = eventId();
    const body = succeededBody(order, intent, { id });
    const { header, sent } = make(body, order, intent);
    expectError(await deliver(sent ?? body, header), 400, "invalid_signature");
    await sleep(200);
    await expectStillPending(buyer, order.id, item.id, [5, 3]);

    // The refused delivery was not recorded: the same event, signed properly, is processed.
    await deliverSigned(body);
    await paidOrder(buyer.token, order.id);
    expect(await stock(item.id)).toEqual([3, 3]);
  });

  it("accepts a header with several v1 signatures when one matches", async () => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    const body = succeededBody(order, intent);
    const t = unixNow();
    const good = hmacHex(webhookSecret(), t, body);
    const wrong = hmacHex("another-secret", t, body);
    const res = await deliver(body, `t=${t},v1=${wrong},v1=${good}`);
    expect(res.status, res.text).toBe(200);
    await paidOrder(buyer.token, order.id);
    expect(await stock(item.id)).toEqual([3, 3]);
  });

  it("acknowledges but ignores events whose amount, currency or intent is not the order's", async () => {
    const a = await pendingOrderWithIntent(1000);
    const b = await pendingOrderWithIntent(1500);
    const mismatched = [
      succeededBody(a.order, a.intent, { amount: a.order.total_cents + 1 }),
      succeededBody(a.order, a.intent, { amount: a.order.total_cents - 1 }),
      succeededBody(a.order, a.intent, { amount: 0 }),
      succeededBody(a.order, a.intent, { currency: "eur" }),
      // b's intent with a's order and amount: matches neither order.
      succeededBody(a.order, b.intent),
      succeededBody(a.order, a.intent, { intentId: "pi_unknown_intent" }),
      // a's intent, claimed for b's order.
      succeededBody(b.order, a.intent, { amount: b.order.total_cents }),
    ];
    for (const body of mismatched) await deliverSigned(body);
    await sleep(300);
    await expectStillPending(a.buyer, a.order.id, a.item.id, [5, 3]);
    await expectStillPending(b.buyer, b.order.id, b.item.id, [5, 3]);
    expect((await readOrder(a.buyer.token, a.order.id)).refunds).toEqual([]);

    // The right event still pays each of them.
    await deliverSigned(succeededBody(a.order, a.intent));
    await deliverSigned(succeededBody(b.order, b.intent));
    await paidOrder(a.buyer.token, a.order.id);
    await paidOrder(b.buyer.token, b.order.id);
    expect(await stock(a.item.id)).toEqual([3, 3]);
    expect(await stock(b.item.id)).toEqual([3, 3]);
  });

  it("leaves the order pending on payment_intent.payment_failed", async () => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    await deliverSigned(
      succeededBody(order, intent, {
        type: "payment_intent.payment_failed",
        failure: { code: "card_declined", message: "Your card was declined." },
      }),
    );
    await sleep(200);
    await expectStillPending(buyer, order.id, item.id, [5, 3]);
    // A retry with a good card goes through.
    const ok = await confirm(intent.intent_id, card(intent.client_secret));
    expect(ok.status, ok.text).toBe(200);
    await paidOrder(buyer.token, order.id);
  });

  it("acknowledges events for unknown orders and types it does not handle", async () => {
    await deliverSigned(eventBody({ intentId: "pi_nobody_knows", amount: 1000, orderId: 999_999_999_999 }));
    await deliverSigned(eventBody({ intentId: "pi_nobody_knows", amount: 1000, orderId: "not-a-number" }));
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    await deliverSigned(succeededBody(order, intent, { type: "customer.created" }));
    await sleep(200);
    await expectStillPending(buyer, order.id, item.id, [5, 3]);
  });

  it("answers 400 for a well-signed body that is not an event", async () => {
    for (const body of ["not json at all", "[1,2,3]"]) {
      expectError(await deliver(body, signature(body)), 400, ["bad_request", "invalid_json"]);
    }
  });
});

// `marketplace serve` does not expire orders by itself (only `dev` runs the job): an order past
// expires_at is reported expired and no longer reserves, and a payment that still arrives for it
// must be refunded.
describe("a payment that arrives after the order expired", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ jwtSecret: inject("jwtSecret"), env: { ORDER_PAYMENT_TTL: "2s" } });
  });
  afterAll(async () => {
    const exit = await server?.stop();
    expect(exit, server?.output()).toBe(kCleanExit);
  });

  it("is refunded; the order stays expired and the stock untouched", async () => {
    const url = server.baseUrl;
    const { buyer, item, order } = await pendingOrder(1250, url);
    const window = Date.parse(order.expires_at) - Date.parse(order.created_at);
    expect(Math.abs(window - 2000), JSON.stringify(order)).toBeLessThan(1000);
    const intent = await intentFor(buyer.token, order.id, url);

    const expired = await orderWhen(buyer.token, order.id, "status expired", (o) => o.status === "expired", 6_000, url);
    expect(expired.payment.paid_at).toBeNull();
    // No longer reserved, and no more payment for it.
    expect(await stock(item.id, url)).toEqual([5, 5]);
    expectError(await startPayment(buyer.token, order.id, url), 409, "conflict");

    // The buyer's browser still had the intent and pays it: the gateway takes the money…
    const paid = await confirm(intent.intent_id, card(intent.client_secret), url);
    expect(paid.status, `${paid.text}\n(the intent must still be payable: serve runs no expiry job)`).toBe(200);

    // …and the marketplace gives it back.
    const refunded = await orderWhen(
      buyer.token,
      order.id,
      "a succeeded refund",
      (o) => o.refunds.some((r) => r.status === "succeeded"),
      10_000,
      url,
    );
    expect(refunded.status).toBe("expired");
    expect(refunded.refunds.length, JSON.stringify(refunded.refunds)).toBe(1);
    expect(refunded.refunds[0]).toMatchObject({ amount_cents: order.total_cents, currency: "USD", status: "succeeded" });
    expect(refunded.items.every((i) => i.status !== "awaiting_shipment"), JSON.stringify(refunded.items)).toBe(true);
    expect(await stock(item.id, url)).toEqual([5, 5]);

    // Redelivered later, the payment is neither taken nor refunded again.
    await sleep(300);
    const later = await readOrder(buyer.token, order.id, url);
    expect(later.status).toBe("expired");
    expect(later.refunds.length).toBe(1);
    expect(await stock(item.id, url)).toEqual([5, 5]);
  });
});
