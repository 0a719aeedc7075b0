// Paying through Stripe (PAYMENT_PROVIDER=stripe): a server of its own whose Stripe API is a small
// stateful fake kept by this test (the stand-in in ../shared/providers is stateless; the adapter's
// requests are checked against Stripe's contract there, in server/tests/db/stripe_gateway_test),
// and webhooks signed by Stripe's own npm package, so the verifier is checked independently of
// our signing code.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { api, type ApiResponse } from "../../lib/client.js";
import { expectError } from "../../lib/fixtures.js";
import {
  account,
  eventBody,
  eventId,
  orderAction,
  paidOrder,
  placed,
  putInCart,
  readOrder,
  sell,
  sleep,
  stock,
  unixNow,
  type FullOrder,
  type PaymentIntent,
} from "../../lib/payments.js";
import { freePort, kCleanExit, type RunningServer, startServer } from "../../lib/server.js";

const kOldSecret = `whsec_old${randomBytes(12).toString("hex")}`;
const kNewSecret = `whsec_new${randomBytes(12).toString("hex")}`;
const kSecretKey = `sk_test_${randomBytes(12).toString("hex")}`;
const kPublishableKey = `pk_test_${randomBytes(12).toString("hex")}`;
const stripe = new Stripe(kSecretKey);

interface FakeIntent {
  id: string;
  object: "payment_intent";
  amount: number;
  currency: string;
  client_secret: string;
  status: string;
  metadata: Record<string, string>;
}

// Stripe's PaymentIntents and Refunds as far as the adapter uses them, with their state and
// Stripe's idempotency (the same key answers the same object).
class FakeStripe {
  readonly intents = new Map<string, FakeIntent>();
  readonly refunds: { id: string; payment_intent: string; amount: number; key: string }[] = [];
  readonly requests: { method: string; path: string; key?: string; form: URLSearchParams }[] = [];
  private readonly byKey = new Map<string, string>();
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    const port = await freePort();
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const form = new URLSearchParams(raw);
    const key = req.headers["idempotency-key"] as string | undefined;
    const path = req.url ?? "";
    this.requests.push({ method: req.method ?? "", path, key, form });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${kSecretKey}` || req.headers["stripe-version"] !== "2023-08-16") {
      return send(401, { error: { type: "invalid_request_error", message: "Invalid API Key provided" } });
    }
    if (key !== undefined && this.byKey.has(key)) return send(200, this.object(this.byKey.get(key)!));
    const cancel = path.match(/^\/v1\/payment_intents\/([^/]+)\/cancel$/)?.[1];
    const one = path.match(/^\/v1\/payment_intents\/([^/]+)$/)?.[1];
    if (req.method === "POST" && path === "/v1/payment_intents") {
      const id = `pi_fake_${randomBytes(8).toString("hex")}`;
      const metadata: Record<string, string> = {};
      for (const [name, value] of form) {
        const field = name.match(/^metadata\[(.+)\]$/)?.[1];
        if (field !== undefined) metadata[field] = value;
      }
      this.intents.set(id, {
        id,
        object: "payment_intent",
        amount: Number(form.get("amount")),
        currency: form.get("currency") ?? "",
        client_secret: `${id}_secret_${randomBytes(8).toString("hex")}`,
        status: "requires_payment_method",
        metadata,
      });
      if (key !== undefined) this.byKey.set(key, id);
      return send(200, this.intents.get(id));
    }
    if (req.method === "GET" && one !== undefined && this.intents.has(one)) return send(200, this.intents.get(one));
    if (req.method === "POST" && cancel !== undefined && this.intents.has(cancel)) {
      const intent = this.intents.get(cancel)!;
      if (intent.status === "succeeded" || intent.status === "canceled") {
        return send(400, { error: { type: "invalid_request_error", code: "payment_intent_unexpected_state" } });
      }
      intent.status = "canceled";
      if (key !== undefined) this.byKey.set(key, intent.id);
      return send(200, intent);
    }
    if (req.method === "POST" && path === "/v1/refunds") {
      const id = `re_fake_${randomBytes(8).toString("hex")}`;
      const refund = { id, payment_intent: form.get("payment_intent") ?? "", amount: Number(form.get("amount")), key: key ?? "" };
      this.refunds.push(refund);
      if (key !== undefined) this.byKey.set(key, id);
      return send(200, { ...refund, object: "refund", status: "succeeded" });
    }
    return send(404, { error: { type: "invalid_request_error", code: "resource_missing" } });
  }

  private object(id: string): unknown {
    return this.intents.get(id) ?? { ...this.refunds.find((r) => r.id === id), object: "refund", status: "succeeded" };
  }
}

const fake = new FakeStripe();
let server: RunningServer;
let baseUrl: string;

beforeAll(async () => {
  await fake.start();
  server = await startServer({
    jwtSecret: inject("jwtSecret"),
    env: {
      PAYMENT_PROVIDER: "stripe",
      STRIPE_SECRET_KEY: kSecretKey,
      STRIPE_PUBLISHABLE_KEY: kPublishableKey,
      STRIPE_WEBHOOK_SECRET: `${kOldSecret}, ${kNewSecret}`,
      STRIPE_API_BASE: fake.url,
    },
  });
  baseUrl = server.baseUrl;
}, 60_000);

afterAll(async () => {
  const exit = await server?.stop();
  await fake.stop();
  expect(exit).toBe(kCleanExit);
});

// Stripe's own test header for `body`, as Stripe would sign it with `secret` at `timestamp`.
function stripeSignature(body: string, secret = kNewSecret, timestamp = unixNow()): string {
  return stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });
}

function deliver(body: string, signatureHeader: string | null): Promise<ApiResponse<any>> {
  return api("POST", "/api/v1/payments/webhooks/stripe", {
    body,
    headers: signatureHeader === null ? {} : { "stripe-signature": signatureHeader },
    baseUrl,
  });
}

async function pendingOrderWithIntent(price = 2300) {
  const [seller, buyer] = await Promise.all([account(baseUrl), account(baseUrl)]);
  const item = await sell(seller.token, { quantity: 4, price_cents: price }, baseUrl);
  await putInCart(buyer.token, item.id, 1, baseUrl);
  const order = await placed(buyer.token, baseUrl);
  const res = await api<PaymentIntent & { publishable_key?: string }>("POST", `/api/v1/orders/${order.id}/payment`, {
    token: buyer.token,
    baseUrl,
  });
  expect(res.status, res.text).toBe(200);
  return { seller, buyer, item, order, intent: res.body };
}

function succeeded(order: FullOrder, intentId: string, id = eventId()): string {
  return eventBody({ id, intentId, amount: order.total_cents, orderId: order.id });
}

describe("paying with Stripe", () => {
  it("makes one Stripe intent per order, with the order in its metadata and a stable idempotency key", async () => {
    const { buyer, order, intent } = await pendingOrderWithIntent();
    expect(intent.provider).toBe("stripe");
    expect(intent.publishable_key).toBe(kPublishableKey);
    expect(intent.amount_cents).toBe(order.total_cents);
    const created = fake.intents.get(intent.intent_id);
    expect(created?.metadata.order_id).toBe(String(order.id));
    expect(created?.amount).toBe(order.total_cents);
    expect(created?.currency).toBe(order.currency.toLowerCase());
    const again = await api<PaymentIntent>("POST", `/api/v1/orders/${order.id}/payment`, { token: buyer.token, baseUrl });
    expect(again.body.intent_id).toBe(intent.intent_id);
    const creates = fake.requests.filter((r) => r.path === "/v1/payment_intents" && r.form.get("metadata[order_id]") === String(order.id));
    expect(creates).toHaveLength(1);
    expect(creates[0]?.key).toBe(`order-${order.id}-payment`);
    expect(creates[0]?.form.get("automatic_payment_methods[enabled]")).toBe("true");
  });

  it("a succeeded event signed by Stripe's library pays the order, with either secret while rolling", async () => {
    for (const secret of [kOldSecret, kNewSecret]) {
      const { buyer, item, order, intent } = await pendingOrderWithIntent();
      const body = succeeded(order, intent.intent_id);
      // Signed for another event: refused.
      expectError(await deliver(body, stripeSignature(succeeded(order, intent.intent_id), secret)), 400, "invalid_signature");
      const ok = await deliver(body, stripeSignature(body, secret));
      expect(ok.status, ok.text).toBe(200);
      const paid = await paidOrder(buyer.token, order.id, 5_000, baseUrl);
      expect(paid.payment.provider).toBe("stripe");
      expect(await stock(item.id, baseUrl)).toEqual([3, 3]);
    }
  });

  it("refuses a tampered body, a wrong secret, an old timestamp, no header and a malformed one, changing nothing", async () => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    const body = succeeded(order, intent.intent_id);
    const attempts: [string, string, string | null][] = [
      ["tampered body", body.replace(String(order.total_cents), String(order.total_cents - 1)), stripeSignature(body)],
      ["wrong secret", body, stripeSignature(body, "whsec_someone_else")],
      ["old timestamp", body, stripeSignature(body, kNewSecret, unixNow() - 301)],
      ["no header", body, null],
      ["malformed header", body, "t=abc,v1=zz"],
    ];
    for (const [what, sent, header] of attempts) {
      const res = await deliver(sent, header);
      expect(res.status, `${what}: ${res.text}`).toBe(400);
      expect(res.body.error.code, what).toBe("invalid_signature");
    }
    await sleep(100);
    const still = await readOrder(buyer.token, order.id, baseUrl);
    expect(still.status).toBe("pending_payment");
    expect(await stock(item.id, baseUrl)).toEqual([4, 3]);
  });

  it("the same event five times at once, after an event type it does not handle, has one effect", async () => {
    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    const early = eventBody({ intentId: intent.intent_id, amount: order.total_cents, orderId: order.id, type: "payment_intent.requires_action", status: "requires_action" });
    const first = await deliver(early, stripeSignature(early));
    expect(first.status, first.text).toBe(200);
    const body = succeeded(order, intent.intent_id);
    const header = stripeSignature(body);
    const results = await Promise.all(Array.from({ length: 5 }, () => deliver(body, header)));
    for (const res of results) expect(res.status, res.text).toBe(200);
    const paid = await paidOrder(buyer.token, order.id, 5_000, baseUrl);
    expect(paid.events.filter((e) => e.type === "order.paid")).toHaveLength(1);
    expect(await stock(item.id, baseUrl)).toEqual([3, 3]);
  });

  it("cancelling an unpaid order cancels its Stripe intent; cancelling a paid one refunds it at Stripe once", async () => {
    const unpaid = await pendingOrderWithIntent();
    const cancelled = await orderAction(unpaid.buyer.token, unpaid.order.id, "cancel", {}, baseUrl);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(fake.intents.get(unpaid.intent.intent_id)?.status).toBe("canceled");

    const { buyer, item, order, intent } = await pendingOrderWithIntent();
    const body = succeeded(order, intent.intent_id);
    expect((await deliver(body, stripeSignature(body))).status).toBe(200);
    await paidOrder(buyer.token, order.id, 5_000, baseUrl);
    const refunded = await orderAction(buyer.token, order.id, "cancel", {}, baseUrl);
    expect(refunded.status, refunded.text).toBe(200);
    const refunds = fake.refunds.filter((r) => r.payment_intent === intent.intent_id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]?.amount).toBe(order.total_cents);
    expect(refunds[0]?.key).toBeTruthy();
    expect(await stock(item.id, baseUrl)).toEqual([4, 4]);
  });

  it("a payment that succeeds for an order cancelled meanwhile is refunded automatically", async () => {
    const { buyer, order, intent } = await pendingOrderWithIntent();
    expect((await orderAction(buyer.token, order.id, "cancel", {}, baseUrl)).status).toBe(200);
    const body = succeeded(order, intent.intent_id);
    expect((await deliver(body, stripeSignature(body))).status).toBe(200);
    for (let i = 0; i < 100 && !fake.refunds.some((r) => r.payment_intent === intent.intent_id); ++i) await sleep(50);
    expect(fake.refunds.filter((r) => r.payment_intent === intent.intent_id)).toHaveLength(1);
  });

  it("a dispute puts the paid order on hold for both sides until it is closed", async () => {
    const { seller, buyer, order, intent } = await pendingOrderWithIntent();
    const paidBody = succeeded(order, intent.intent_id);
    expect((await deliver(paidBody, stripeSignature(paidBody))).status).toBe(200);
    const paid = await paidOrder(buyer.token, order.id, 5_000, baseUrl);
    const dispute = (type: string, status: string) =>
      JSON.stringify({
        id: eventId(),
        object: "event",
        type,
        data: {
          object: {
            id: "dp_test",
            object: "dispute",
            charge: "ch_test",
            payment_intent: intent.intent_id,
            amount: order.total_cents,
            currency: "usd",
            reason: "fraudulent",
            status,
          },
        },
      });
    const opened = dispute("charge.dispute.created", "needs_response");
    // Delivered twice: one hold.
    for (let i = 0; i < 2; ++i) expect((await deliver(opened, stripeSignature(opened))).status).toBe(200);
    const held = await readOrder(seller.token, order.id, baseUrl);
    expect(held.events.filter((e) => e.type === "payment.disputed")).toHaveLength(1);
    const itemId = paid.items[0]?.id;
    expect(itemId).toBeDefined();
    const ship = await orderAction(seller.token, order.id, "ship", { item_ids: [itemId], carrier: "UPS", tracking_code: "1Z999" }, baseUrl);
    expectError(ship, 409, "conflict");
    expect(ship.body.error.message).toContain("disputed");
    expectError(await orderAction(buyer.token, order.id, "cancel", {}, baseUrl), 409, "conflict");

    const closed = dispute("charge.dispute.closed", "won");
    expect((await deliver(closed, stripeSignature(closed))).status).toBe(200);
    const shipped = await orderAction(seller.token, order.id, "ship", { item_ids: [itemId], carrier: "UPS", tracking_code: "1Z999" }, baseUrl);
    expect(shipped.status, shipped.text).toBe(200);
  });

  it("a refund made at Stripe is recorded on the order; the echo of ours adds nothing", async () => {
    const { buyer, order, intent } = await pendingOrderWithIntent();
    const paidBody = succeeded(order, intent.intent_id);
    expect((await deliver(paidBody, stripeSignature(paidBody))).status).toBe(200);
    await paidOrder(buyer.token, order.id, 5_000, baseUrl);
    const refunded = (amount: number) =>
      JSON.stringify({
        id: eventId(),
        object: "event",
        type: "charge.refunded",
        data: { object: { id: "ch_test", object: "charge", payment_intent: intent.intent_id, amount: order.total_cents, amount_refunded: amount, currency: "usd" } },
      });
    const outside = refunded(500);
    expect((await deliver(outside, stripeSignature(outside))).status).toBe(200);
    const recorded = await readOrder(buyer.token, order.id, baseUrl);
    expect(recorded.events.filter((e) => e.type === "payment.refunded")).toHaveLength(1);
    expect(recorded.status).toBe("paid");

    expect((await orderAction(buyer.token, order.id, "cancel", {}, baseUrl)).status).toBe(200);
    const echo = refunded(order.total_cents);
    expect((await deliver(echo, stripeSignature(echo))).status).toBe(200);
    const after = await readOrder(buyer.token, order.id, baseUrl);
    expect(after.events.filter((e) => e.type === "payment.refunded")).toHaveLength(1);
    expect(after.refunds).toHaveLength(1);
  });

  it("the local gateway's card endpoint is not served with Stripe", async () => {
    const res = await api("POST", "/api/v1/payments/local/intents/pi_x/confirm", { json: {}, baseUrl });
    expect(res.status).toBe(404);
  });
});
