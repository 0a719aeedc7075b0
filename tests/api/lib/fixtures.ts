// Test data and the few steps most tests share. The test database is shared by every file and
// every run, so each user gets random names.
import { randomBytes } from "node:crypto";
import { expect, inject } from "vitest";
import { api, type ApiOptions, type ApiResponse, type ErrorBody } from "./client.js";
import { checkResponse } from "./contract.js";
import { baseEnv, randomSecret, runCommand } from "./server.js";

export interface Me {
  id: number;
  username: string;
  email: string;
  display_name: string;
  created_at: string;
  updated_at: string;
}

export interface TokenPair {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  refresh_expires_at: string;
}

export interface AuthResponse {
  user: Me;
  tokens: TokenPair;
}

export interface Credentials {
  username: string;
  email: string;
  password: string;
}

export function suffix(bytes = 5): string {
  return randomBytes(bytes).toString("hex");
}

export function newCredentials(prefix = "u"): Credentials {
  const tag = suffix();
  return {
    username: `${prefix}_${tag}`,
    email: `${prefix}.${tag}@example.com`,
    password: `pw-${suffix(8)}`,
  };
}

export async function register(
  overrides: Partial<Credentials> & { display_name?: string } = {},
  options: ApiOptions = {},
): Promise<Credentials & { auth: AuthResponse }> {
  const credentials = { ...newCredentials(), ...overrides };
  const res = await api<AuthResponse>("POST", "/api/v1/auth/register", { ...options, json: credentials });
  expect(res.status, res.text).toBe(201);
  return { ...credentials, auth: res.body };
}

export async function login(login: string, password: string, options: ApiOptions = {}): Promise<AuthResponse> {
  const res = await api<AuthResponse>("POST", "/api/v1/auth/login", { ...options, json: { login, password } });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

export function refresh(refreshToken: string, options: ApiOptions = {}): Promise<ApiResponse<AuthResponse & ErrorBody>> {
  return api("POST", "/api/v1/auth/refresh", { ...options, json: { refresh_token: refreshToken } });
}

export function getMe(token: string, options: ApiOptions = {}): Promise<ApiResponse<Me & ErrorBody>> {
  return api("GET", "/api/v1/me", { ...options, token });
}

// Asserts the status, the error code and, when given, exactly which fields are named.
export function expectError(res: ApiResponse, status: number, code: string | string[], fields?: string[]): ErrorBody {
  expect(res.status, res.text).toBe(status);
  const body = res.body as ErrorBody;
  if (Array.isArray(code)) expect(code, res.text).toContain(body.error.code);
  else expect(body.error.code, res.text).toBe(code);
  if (fields !== undefined) {
    const named = [...new Set((body.error.fields ?? []).map((f) => f.field))].sort();
    expect(named, res.text).toEqual([...fields].sort());
  }
  return body;
}

export function fieldMessage(body: ErrorBody, field: string): string | undefined {
  return body.error.fields?.find((f) => f.field === field)?.message;
}

// A source address on loopback that no other test uses: its own rate-limit buckets.
export function randomLoopbackAddress(): string {
  const [a, b, c] = randomBytes(3);
  return `127.${a! % 250 + 2}.${b}.${(c! % 250) + 2}`;
}

// ---- Catalogue ----

export type Condition = "new" | "like_new" | "good" | "fair";

export interface ListingImage {
  id: number;
  position: number;
  is_main: boolean;
  format: "jpeg" | "png" | "webp";
  width: number;
  height: number;
  urls: { original: string; small: string; large: string };
}

export interface Listing {
  id: number;
  title: string;
  description: string;
  price_cents: number;
  currency: string;
  quantity: number;
  available: number;
  category: string;
  condition: Condition;
  status: "active" | "inactive";
  version: number;
  seller: { id: number; username: string; display_name: string; created_at: string };
  images: ListingImage[];
  created_at: string;
  updated_at: string;
}

export interface ListingSummary {
  id: number;
  title: string;
  price_cents: number;
  currency: string;
  available: number;
  category: string;
  condition: Condition;
  seller: { username: string; display_name: string };
  main_image: ListingImage | null;
  created_at: string;
}

export interface ListingPage {
  items: ListingSummary[];
  next_cursor: string | null;
}

export interface ListingInput {
  title: string;
  description?: string;
  price_cents: number;
  currency?: string;
  quantity: number;
  category: string;
  condition: Condition;
}

// Lower-case letters only, so that full-text search sees one plain word that no other run has.
export function randomWord(length = 12): string {
  return [...randomBytes(length)].map((b) => String.fromCharCode(97 + (b % 26))).join("");
}

export function newListing(overrides: Partial<ListingInput> = {}): ListingInput {
  return {
    title: `Test item ${suffix(3)}`,
    description: "Described for a test.",
    price_cents: 1999,
    quantity: 3,
    category: "other",
    condition: "good",
    ...overrides,
  };
}

export async function createListing(token: string, overrides: Partial<ListingInput> = {}): Promise<Listing> {
  const res = await api<Listing>("POST", "/api/v1/listings", { token, json: newListing(overrides) });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

// The ETag a listing of this version carries.
export function etagOf(version: number): string {
  return `"${version}"`;
}

// A query string from the defined values only, e.g. { limit: 2, q: undefined } → "?limit=2".
export function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

// Follows next_cursor from the first page to the last; `between` runs before each later page.
export async function collectPages(
  path: string,
  params: Record<string, string | number | boolean | undefined>,
  between: (page: number) => Promise<void> = async () => {},
  maxPages = 100,
): Promise<{ items: ListingSummary[]; pages: ListingSummary[][] }> {
  const pages: ListingSummary[][] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    if (page > 0) await between(page);
    const res = await api<ListingPage>("GET", path + queryString({ ...params, cursor }));
    expect(res.status, res.text).toBe(200);
    pages.push(res.body.items);
    if (res.body.next_cursor === null) return { items: pages.flat(), pages };
    cursor = res.body.next_cursor;
  }
  throw new Error(`${path}: still a next_cursor after ${maxPages} pages`);
}

// (method, path) pairs that `marketplace routes` lists, e.g. "POST /api/v1/listings".
export async function servedRoutes(): Promise<Set<string>> {
  const { stdout } = await runCommand(["routes"], baseEnv(randomSecret()));
  const routes = JSON.parse(stdout) as { method: string; path: string }[];
  return new Set(routes.map((r) => `${r.method.toUpperCase()} ${r.path}`));
}

// A GET whose body is kept as bytes (images), checked against the spec like every api() answer.
export async function getBytes(
  path: string,
  headers: Record<string, string> = {},
): Promise<ApiResponse & { bytes: Buffer }> {
  const url = inject("baseUrl") + path;
  const res = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(30_000) });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString("utf8");
  const body = checkResponse({ method: "GET", url, status: res.status, headers: res.headers, text });
  return { status: res.status, headers: res.headers, text, body, bytes };
}

// A multipart/form-data body with one file part.
export function multipartBody(
  name: string,
  filename: string,
  contentType: string,
  content: Uint8Array,
): { body: Uint8Array; contentType: string } {
  const boundary = `----test${suffix(8)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n` +
      `Content-Type: ${contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, content, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}

// ---- Cart ----

export type CartLineProblem = "not_for_sale" | "price_changed" | "exceeds_available";

export interface CartLine {
  listing_id: number;
  title: string;
  seller: { username: string; display_name: string };
  main_image: ListingImage | null;
  unit_price_cents: number;
  price_when_added_cents: number;
  currency: string;
  quantity: number;
  available: number;
  line_total_cents: number;
  purchasable: boolean;
  problems: CartLineProblem[];
  added_at: string;
}

export interface Cart {
  lines: CartLine[];
  line_count: number;
  total_cents: number;
  currency: string;
  purchasable: boolean;
}

export const kCartMaxLines = 50;

export function cartItemPath(listingId: number | string): string {
  return `/api/v1/cart/items/${listingId}`;
}

// Sets a line; the answer as it came (a cart, or an error).
export function putCartItem(token: string, listingId: number | string, quantity: unknown): Promise<ApiResponse<Cart>> {
  return api<Cart>("PUT", cartItemPath(listingId), { token, json: { quantity } });
}

export async function getCart(token: string): Promise<Cart> {
  const res = await api<Cart>("GET", "/api/v1/cart", { token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

// Creates `count` listings of one seller, `batch` at a time in parallel, in creation order.
export async function createListings(
  token: string,
  count: number,
  overrides: Partial<ListingInput> = {},
  batch = 10,
): Promise<Listing[]> {
  const out: Listing[] = [];
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start);
    out.push(...(await Promise.all(Array.from({ length: size }, () => createListing(token, overrides)))));
  }
  return out;
}

// ---- Orders ----

export interface ShippingAddress {
  recipient_name: string;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postal_code: string;
  country: string;
  phone: string;
}

export interface OrderItem {
  id: number;
  listing_id: number;
  title: string;
  seller: { username: string; display_name: string };
  unit_price_cents: number;
  currency: string;
  quantity: number;
  line_total_cents: number;
  image_url: string | null;
  status: string;
}

export type OrderStatus = "pending_payment" | "paid" | "cancelled" | "expired" | "completed";

export interface Order {
  id: number;
  status: OrderStatus;
  currency: string;
  total_cents: number;
  shipping_address: ShippingAddress;
  items: OrderItem[];
  expires_at: string;
  created_at: string;
}

export function newAddress(overrides: Partial<ShippingAddress> = {}): Partial<ShippingAddress> {
  return { recipient_name: "Ada Lovelace", line1: "12 St James's Square", city: "London", country: "GB", ...overrides };
}

export function idempotencyKey(): string {
  return `key-${suffix(12)}`;
}

// Places an order; the answer as it came (an order, or an error). `key: null` sends no key.
export function placeOrder(
  token: string,
  options: { key?: string | null; address?: unknown; json?: unknown } = {},
): Promise<ApiResponse<Order>> {
  const key = options.key === undefined ? idempotencyKey() : options.key;
  const json = options.json ?? { shipping_address: options.address ?? newAddress() };
  return api<Order>("POST", "/api/v1/orders", { token, json, headers: key === null ? {} : { "idempotency-key": key } });
}

export function getOrder(token: string | undefined, id: number | string): Promise<ApiResponse<Order>> {
  return api<Order>("GET", `/api/v1/orders/${id}`, token === undefined ? {} : { token });
}
