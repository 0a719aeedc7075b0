// Orders after checkout: payment through the local gateway, signed webhook events, fulfilment,
// and the steps the payment, lifecycle and flash-sale tests share. Every helper takes an optional
// baseUrl, so that the same steps run against a server instance a test file started itself.
import { createHmac, randomBytes } from "node:crypto";
import { expect, inject } from "vitest";
import { api, type ApiResponse } from "./client.js";
import {
  idempotencyKey,
  newAddress,
  newListing,
  register,
  type Listing,
  type ListingInput,
  type Order,
  type OrderItem,
} from "./fixtures.js";
import { webhookSecretFor } from "./server.js";

// ---- Shapes ----

export type OrderItemStatus = "pending_payment" | "awaiting_shipment" | "shipped" | "delivered" | "cancelled";
export type EventActor = "buyer" | "seller" | "system" | "provider";

export interface OrderEvent {
  type: string;
  item_id: number | null;
  actor: EventActor;
  created_at: string;
}

export interface OrderRefund {
  amount_cents: number;
  currency: string;
  reason: string;
  status: "pending" | "succeeded";
  item_id: number | null;
  created_at: string;
}

export interface FullOrderItem extends Omit<OrderItem, "status"> {
  status: OrderItemStatus;
  carrier: string | null;
  tracking_code: string | null;
  shipped_at: string | null;
  delivered_at: string | null;
}

export interface FullOrder extends Omit<Order, "items"> {
  buyer: { username: string; display_name: string };
  items: FullOrderItem[];
  payment: { provider: string | null; intent_id: string | null; paid_at: string | null };
  refunds: OrderRefund[];
  events: OrderEvent[];
  updated_at: string;
}

export interface OrderPage {
  items: FullOrder[];
  next_cursor: string | null;
}

export interface PaymentIntent {
  provider: string;
  intent_id: string;
  client_secret: string;
  amount_cents: number;
  currency: string;
}

export interface ConfirmedPayment {
  id: string;
  status: "succeeded";
  amount_cents: number;
  currency: string;
}

// ---- People, listings, carts, orders ----

export interface Account {
  username: string;
  display_name: string;
  token: string;
}

export async function account(baseUrl?: string, display_name?: string): Promise<Account> {
  const registered = await register(
    display_name === undefined ? {} : { display_name },
    baseUrl === undefined ? {} : { baseUrl },
  );
  return {
    username: registered.username,
    display_name: registered.auth.user.display_name,
    token: registered.auth.tokens.access_token,
  };
}

// `count` accounts, `batch` registrations at a time (Argon2id makes each one tens of ms). Only
// the per-IP and per-email limits apply to registration, and the suite's per-IP one is huge.
export async function accounts(count: number, batch = 20, baseUrl?: string): Promise<Account[]> {
  const out: Account[] = [];
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start);
    out.push(...(await Promise.all(Array.from({ length: size }, () => account(baseUrl)))));
  }
  return out;
}

export async function sell(token: string, overrides: Partial<ListingInput> = {}, baseUrl?: string): Promise<Listing> {
  const res = await api<Listing>("POST", "/api/v1/listings", { token, json: newListing(overrides), baseUrl });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

export async function getListing(id: number, baseUrl?: string): Promise<Listing> {
  const res = await api<Listing>("GET", `/api/v1/listings/${id}`, { baseUrl });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

// [quantity, available] of a listing now.
export async function stock(id: number, baseUrl?: string): Promise<[number, number]> {
  const listing = await getListing(id, baseUrl);
  return [listing.quantity, listing.available];
}

export async function putInCart(token: string, listingId: number, quantity = 1, baseUrl?: string): Promise<void> {
  const res = await api("PUT", `/api/v1/cart/items/${listingId}`, { token, json: { quantity }, baseUrl });
  expect(res.status, res.text).toBe(200);
}

export async function emptyCart(token: string, baseUrl?: string): Promise<void> {
  const res = await api("DELETE", "/api/v1/cart", { token, baseUrl });
  expect(res.status, res.text).toBe(204);
}

export function checkout(token: string, baseUrl?: string): Promise<ApiResponse<FullOrder>> {
  return api<FullOrder>("POST", "/api/v1/orders", {
    token,
    json: { shipping_address: newAddress() },
    headers: { "idempotency-key": idempotencyKey() },
    baseUrl,
  });
}

export async function placed(token: string, baseUrl?: string): Promise<FullOrder> {
  const res = await checkout(token, baseUrl);
  expect(res.status, res.text).toBe(201);
  expect(res.body.status).toBe("pending_payment");
  return res.body;
}

export function fetchOrder(token: string, id: number | string, baseUrl?: string): Promise<ApiResponse<FullOrder>> {
  return api<FullOrder>("GET", `/api/v1/orders/${id}`, { token, baseUrl });
}

export async function readOrder(token: string, id: number | string, baseUrl?: string): Promise<FullOrder> {
  const res = await fetchOrder(token, id, baseUrl);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

export function listOrders(
  token: string,
  params: Record<string, string | number | undefined> = {},
  baseUrl?: string,
): Promise<ApiResponse<OrderPage>> {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value));
  const query = search.toString();
  return api<OrderPage>("GET", `/api/v1/orders${query === "" ? "" : `?${query}`}`, { token, baseUrl });
}

export function orderAction(
  token: string | undefined,
  id: number | string,
  action: "payment" | "cancel" | "ship" | "deliver" | "refund",
  json?: unknown,
  baseUrl?: string,
): Promise<ApiResponse<any>> {
  return api("POST", `/api/v1/orders/${id}/${action}`, { token, json, baseUrl });
}

export function ship(
  token: string,
  id: number,
  itemIds: number[],
  carrier = "UPS",
  tracking_code = `1Z${randomBytes(6).toString("hex").toUpperCase()}`,
  baseUrl?: string,
): Promise<ApiResponse<FullOrder>> {
  return orderAction(token, id, "ship", { item_ids: itemIds, carrier, tracking_code }, baseUrl);
}

// ---- Paying ----

export const kCards = {
  succeeds: "4242 4242 4242 4242",
  declined: "4000 0000 0000 0002",
  insufficientFunds: "4000 0000 0000 9995",
  // Luhn-valid but not a test card of the gateway: declined.
  otherValid: "5555 5555 5555 4444",
} as const;

export function card(clientSecret: string, number: string = kCards.succeeds, overrides: Record<string, unknown> = {}) {
  return {
    client_secret: clientSecret,
    card_number: number,
    exp_month: 12,
    exp_year: new Date().getUTCFullYear() + 3,
    cvc: "123",
    ...overrides,
  };
}

export function startPayment(token: string, orderId: number, baseUrl?: string): Promise<ApiResponse<PaymentIntent>> {
  return orderAction(token, orderId, "payment", undefined, baseUrl);
}

export async function intentFor(token: string, orderId: number, baseUrl?: string): Promise<PaymentIntent> {
  const res = await startPayment(token, orderId, baseUrl);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

export function confirm(intentId: string, json: unknown, baseUrl?: string): Promise<ApiResponse<ConfirmedPayment>> {
  return api<ConfirmedPayment>("POST", `/api/v1/payments/local/intents/${encodeURIComponent(intentId)}/confirm`, {
    json,
    baseUrl,
  });
}

// Gets the order's intent and pays it with the card that succeeds (does not wait for the webhook).
export async function payWithCard(token: string, orderId: number, baseUrl?: string): Promise<PaymentIntent> {
  const intent = await intentFor(token, orderId, baseUrl);
  const res = await confirm(intent.intent_id, card(intent.client_secret), baseUrl);
  expect(res.status, res.text).toBe(200);
  expect(res.body).toMatchObject({ id: intent.intent_id, status: "succeeded", amount_cents: intent.amount_cents });
  return intent;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Polls `probe` until it returns something other than undefined; fails after `timeoutMs` with
// `what` and the last value seen.
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 5_000,
  intervalMs = 50,
  lastSeen: () => unknown = () => undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`not within ${timeoutMs} ms: ${what}; last seen: ${JSON.stringify(lastSeen())?.slice(0, 3000)}`);
    }
    await sleep(intervalMs);
  }
}

// Polls the order (as `token` sees it) until `done` holds.
export async function orderWhen(
  token: string,
  orderId: number,
  what: string,
  done: (order: FullOrder) => boolean,
  timeoutMs = 5_000,
  baseUrl?: string,
): Promise<FullOrder> {
  let last: FullOrder | undefined;
  return eventually(
    `order ${orderId}: ${what}`,
    async () => {
      last = await readOrder(token, orderId, baseUrl);
      return done(last) ? last : undefined;
    },
    timeoutMs,
    50,
    () => last,
  );
}

export function paidOrder(token: string, orderId: number, timeoutMs = 5_000, baseUrl?: string): Promise<FullOrder> {
  return orderWhen(token, orderId, "status paid", (o) => o.status === "paid", timeoutMs, baseUrl);
}

// Intent, card, and the webhook's effect: the order as its buyer sees it once paid.
export async function pay(token: string, orderId: number, baseUrl?: string): Promise<FullOrder> {
  await payWithCard(token, orderId, baseUrl);
  return paidOrder(token, orderId, 5_000, baseUrl);
}

// ---- Webhook events ----

// The secret the suite's server (or an instance started with that JWT secret) verifies with.
export function webhookSecret(jwtSecret: string = inject("jwtSecret")): string {
  return webhookSecretFor(jwtSecret);
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

export function hmacHex(secret: string, t: number, body: string): string {
  return createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
}

// `Local-Signature: t=…,v1=…` over the raw body, as the gateway (and Stripe) signs.
export function signature(body: string, options: { secret?: string; t?: number } = {}): string {
  const t = options.t ?? unixNow();
  return `t=${t},v1=${hmacHex(options.secret ?? webhookSecret(), t, body)}`;
}

export interface EventFields {
  id?: string;
  type?: string;
  intentId: string;
  amount: number;
  currency?: string;
  orderId: number | string;
  status?: string;
  failure?: { code: string; message: string } | null;
}

export function eventId(): string {
  return `evt_test_${randomBytes(10).toString("hex")}`;
}

// An event in the gateway's (Stripe's) shape, as the raw body to sign.
export function eventBody(fields: EventFields): string {
  const type = fields.type ?? "payment_intent.succeeded";
  const status =
    fields.status ??
    (type === "payment_intent.succeeded"
      ? "succeeded"
      : type === "payment_intent.canceled"
        ? "canceled"
        : "requires_payment_method");
  return JSON.stringify({
    id: fields.id ?? eventId(),
    object: "event",
    type,
    created: unixNow(),
    data: {
      object: {
        id: fields.intentId,
        object: "payment_intent",
        amount: fields.amount,
        currency: fields.currency ?? "usd",
        status,
        metadata: { order_id: String(fields.orderId) },
        last_payment_error: fields.failure ?? null,
      },
    },
  });
}

// Posts a raw body to the webhook with the given Local-Signature (null: no header).
export function deliver(body: string, localSignature: string | null, baseUrl?: string): Promise<ApiResponse<any>> {
  return api("POST", "/api/v1/payments/webhooks/local", {
    body,
    headers: localSignature === null ? {} : { "local-signature": localSignature },
    baseUrl,
  });
}

// Signs with the right secret and now, posts, and expects the acknowledgement.
export async function deliverSigned(body: string, options: { secret?: string; baseUrl?: string } = {}): Promise<void> {
  const res = await deliver(body, signature(body, { secret: options.secret }), options.baseUrl);
  expect(res.status, res.text).toBe(200);
  expect(res.body).toEqual({ received: true });
}
