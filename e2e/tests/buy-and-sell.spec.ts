import { expect, test } from "@playwright/test";
import {
  addToCart,
  createListing,
  fillAddress,
  goToCheckout,
  kJpeg,
  kPng,
  payWithCard,
  shot,
  signUp,
  unique,
} from "../lib/helpers";

test("a seller lists with two photos; a buyer finds it, pays after a declined card; it ships and is delivered", async ({
  browser,
}) => {
  // 1. The seller signs up, creates a listing, uploads two images and makes the second main.
  const seller = await signUp(browser, "seller");
  const title = `Brass desk lamp ${unique("")}`;
  const listingId = await createListing(seller.page, {
    title,
    price: "45.00",
    quantity: 3,
  });
  await seller.page.locator('input[type="file"]').setInputFiles([kJpeg, kPng]);
  await expect(seller.page.getByRole("img", { name: /^Photo \d/ })).toHaveCount(
    2,
  );
  await expect(
    seller.page.getByRole("img", { name: "Photo 1 (main)" }),
  ).toBeVisible();
  await seller.page.getByRole("button", { name: "Make main" }).click();
  await expect(
    seller.page.getByRole("img", { name: "Photo 2 (main)" }),
  ).toBeVisible();
  await expect(seller.page.getByTestId("stock")).toHaveText(
    /3 on hand · 0 reserved by unpaid orders · 3 available/,
  );
  await shot(seller.page, "flow1-seller-listing-with-photos");

  // 2. A buyer, in a context of their own, searches for it and adds two to the cart.
  const buyer = await signUp(browser, "buyer");
  await buyer.page.goto("/");
  await buyer.page.getByRole("searchbox", { name: "Search" }).fill(title);
  await buyer.page.getByRole("button", { name: "Search" }).click();
  const result = buyer.page.getByRole("link", { name: new RegExp(title) });
  await expect(result).toBeVisible();
  await shot(buyer.page, "flow2-search-results");
  await result.click();
  await expect(buyer.page).toHaveTitle(`${title} · Marketplace`);
  await expect(buyer.page.getByText("3 available")).toBeVisible();
  // The seller's public profile lists it too.
  await buyer.page.getByRole("link", { name: "seller person" }).click();
  await expect(
    buyer.page.getByRole("heading", { name: "seller person" }),
  ).toBeVisible();
  await expect(
    buyer.page.getByRole("link", { name: new RegExp(title) }),
  ).toBeVisible();
  await addToCart(buyer.page, listingId, 2);
  await buyer.page.goto("/cart");
  await expect(buyer.page.getByTestId("cart-total")).toHaveText("$90.00");
  await shot(buyer.page, "flow2-cart");

  // At checkout the buyer, who has no address yet, adds one: the city picked from the
  // suggestions, the address checked by the server and saved to the address book, then chosen.
  await goToCheckout(buyer.page);
  await fillAddress(buyer.page);
  await shot(buyer.page, "flow2-checkout-new-address");
  await buyer.page
    .getByRole("button", { name: "Save and use this address" })
    .click();
  const saved = buyer.page.getByRole("radio", {
    name: /Ada Lovelace, 12 St James's Square, SW1Y 4JH London, GB/,
  });
  await expect(saved).toBeChecked();
  await shot(buyer.page, "flow2-checkout-address-chosen");
  // Checks out with it; a declined card is named next to the card number, then 4242 pays.
  await buyer.page.getByRole("button", { name: "Place order" }).click();
  await expect(buyer.page).toHaveURL(/\/orders\/\d+\/pay$/);
  const orderId = Number(buyer.page.url().split("/").at(-2));
  await payWithCard(buyer.page, "4000 0000 0000 0002");
  await expect(
    buyer.page.getByText(/declined.*Try another card/i),
  ).toBeVisible();
  await shot(buyer.page, "flow3-card-declined");
  await payWithCard(buyer.page, "4242 4242 4242 4242");
  await expect(buyer.page.getByRole("status")).toContainText(
    "Payment received",
  );
  await shot(buyer.page, "flow2-paid");
  await buyer.page.goto(`/orders/${orderId}`);
  await expect(buyer.page.getByTestId("order-status")).toHaveText("Paid");
  await expect(
    buyer.page.getByRole("region", { name: "Shipping to" }),
  ).toContainText("12 St James's Square");

  // 3. The seller sees the sale and ships it with a tracking code.
  await seller.page.goto("/orders?role=seller");
  await seller.page.getByLabel("Status").selectOption("paid");
  await expect(seller.page).toHaveURL(/\/orders\?role=seller&status=paid$/);
  await seller.page
    .getByRole("link", { name: new RegExp(`Order #${orderId}`) })
    .click();
  await seller.page.getByLabel("Carrier").fill("UPS");
  await seller.page.getByLabel("Tracking code").fill("1Z999AA10123456784");
  await seller.page.getByRole("button", { name: "Mark shipped" }).click();
  await expect(seller.page.getByText("1Z999AA10123456784")).toBeVisible();
  await shot(seller.page, "flow2-seller-shipped");

  // 4. The buyer sees it shipped and marks it delivered: the order is complete.
  await buyer.page.reload();
  await expect(buyer.page.getByText("Shipped", { exact: true })).toBeVisible();
  await expect(buyer.page.getByText("1Z999AA10123456784")).toBeVisible();
  await buyer.page.getByRole("button", { name: "Mark as delivered" }).click();
  await expect(buyer.page.getByTestId("order-status")).toHaveText("Completed");
  await shot(buyer.page, "flow2-delivered");

  // The stock the seller sees: 2 sold of 3.
  await seller.page.goto(`/sell/listings/${listingId}`);
  await expect(seller.page.getByTestId("stock")).toHaveText(
    /1 on hand · 0 reserved by unpaid orders · 1 available/,
  );
});
