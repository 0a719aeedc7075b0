import {
  expect,
  type Browser,
  type BrowserContextOptions,
  type Page,
} from "@playwright/test";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const artifacts = path.join(here, "../artifacts");
// The API suite's image fixtures: a real JPEG and PNG that libvips accepts.
export const kJpeg = path.join(here, "../../tests/api/fixtures/tiny.jpg");
export const kPng = path.join(here, "../../tests/api/fixtures/tiny.png");

export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

export async function shot(page: Page, name: string) {
  await page.screenshot({
    path: path.join(artifacts, `${name}.png`),
    fullPage: true,
  });
}

export interface Person {
  page: Page;
  username: string;
}

// A new browser context (its own storage: another person) signed up through the form.
export async function signUp(
  browser: Browser,
  prefix: string,
  options: BrowserContextOptions = {},
): Promise<Person> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const username = unique(prefix);
  await page.goto("/signup");
  await expect(page).toHaveTitle("Sign up · Marketplace");
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name (optional)").fill(`${prefix} person`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  return { page, username };
}

export interface NewListing {
  title: string;
  price: string;
  quantity: number;
}

// Creates a listing through the seller's form and returns its id (from the editor's URL).
export async function createListing(
  seller: Page,
  listing: NewListing,
): Promise<number> {
  await seller.goto("/sell/new");
  await seller.getByLabel("Title").fill(listing.title);
  await seller
    .getByLabel("Description")
    .fill("Works well. Collected from a smoke-free home.");
  await seller.getByLabel("Price (USD)").fill(listing.price);
  await seller.getByLabel("Quantity on hand").fill(String(listing.quantity));
  await seller.getByLabel("Category").selectOption("home-garden");
  await seller.getByLabel("Condition").selectOption("good");
  await seller.getByRole("button", { name: "Create listing" }).click();
  await expect(seller).toHaveURL(/\/sell\/listings\/\d+$/);
  return Number(seller.url().split("/").pop());
}

export async function addToCart(buyer: Page, listingId: number, quantity = 1) {
  await buyer.goto(`/listings/${listingId}`);
  if (quantity > 1)
    await buyer.getByLabel("Quantity").selectOption(String(quantity));
  await buyer.getByRole("button", { name: "Add to cart" }).click();
  await expect(buyer.getByRole("status")).toContainText("Added to your cart");
}

// From the cart to the checkout page; a buyer without a saved address adds one there first
// (see addAddress). Then the order is placed with the chosen address. Returns its id.
export async function checkOut(buyer: Page): Promise<number> {
  await goToCheckout(buyer);
  await useAddressAtCheckout(buyer);
  await buyer.getByRole("button", { name: "Place order" }).click();
  await expect(buyer).toHaveURL(/\/orders\/\d+\/pay$/);
  return Number(buyer.url().split("/").at(-2));
}

export async function goToCheckout(buyer: Page) {
  await buyer.goto("/cart");
  await buyer.getByRole("link", { name: "Check out" }).click();
  await expect(buyer).toHaveTitle("Checkout · Marketplace");
  await expect(
    buyer.getByRole("button", { name: "Place order" }),
  ).toBeVisible();
}

// On the checkout page: the saved default address, or (with none saved) a new one added through
// the form, checked by the server and saved to the address book.
export async function useAddressAtCheckout(buyer: Page) {
  const save = buyer.getByRole("button", { name: "Save and use this address" });
  if (await save.isVisible()) {
    await fillAddress(buyer);
    await save.click();
  }
  await expect(
    buyer.getByRole("radio", { name: /Ada Lovelace/ }),
  ).toBeChecked();
}

// The address form of the address book or of the checkout, with the city picked from the
// suggestions offered while typing it.
export async function fillAddress(page: Page) {
  await page.getByLabel("Full name").fill("Ada Lovelace");
  await page.getByLabel("Address line 1").fill("12 St James's Square");
  await page.getByLabel("Country code").fill("GB");
  await pickCity(page, "Londo", "London, GB");
  await page.getByLabel("Postal code (optional)").fill("SW1Y 4JH");
}

// Types the start of a city and picks the suggestion named `choice` with the mouse.
export async function pickCity(page: Page, typed: string, choice: string) {
  const city = page.getByRole("combobox", { name: "City" });
  await city.fill(typed);
  await page.getByRole("option", { name: choice, exact: true }).click();
  await expect(city).toHaveValue(choice.split(",")[0]!);
}

export async function payWithCard(buyer: Page, card: string) {
  await buyer.getByLabel("Card number").fill(card);
  await buyer.getByLabel("Month").fill("12");
  await buyer.getByLabel("Year").fill(String(new Date().getFullYear() + 3));
  await buyer.getByLabel("CVC").fill("123");
  await buyer.getByRole("button", { name: /^Pay / }).click();
}

// A buyer's whole purchase through the UI: the listings in the cart, checkout, and the card
// 4242… accepted. Returns the order's id.
export async function buyAndPay(
  buyer: Page,
  lines: Array<[listingId: number, quantity: number]>,
): Promise<number> {
  for (const [listingId, quantity] of lines)
    await addToCart(buyer, listingId, quantity);
  const orderId = await checkOut(buyer);
  await payWithCard(buyer, "4242 4242 4242 4242");
  await expect(buyer.getByRole("status")).toContainText("Payment received");
  return orderId;
}
