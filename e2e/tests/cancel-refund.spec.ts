import { expect, test } from "@playwright/test";
import { buyAndPay, createListing, shot, signUp, unique } from "../lib/helpers";

test("cancelling a paid order before shipping refunds it and returns the stock", async ({
  browser,
}) => {
  const seller = await signUp(browser, "seller");
  const listingId = await createListing(seller.page, {
    title: `Walnut stool ${unique("")}`,
    price: "80",
    quantity: 2,
  });
  const buyer = await signUp(browser, "buyer");
  const orderId = await buyAndPay(buyer.page, [[listingId, 2]]);

  await buyer.page.goto(`/listings/${listingId}`);
  await expect(buyer.page.getByRole("status")).toHaveText("Sold out");

  await buyer.page.goto(`/orders/${orderId}`);
  buyer.page.once("dialog", (dialog) => dialog.accept());
  await buyer.page.getByRole("button", { name: "Cancel order" }).click();
  await expect(buyer.page.getByTestId("order-status")).toHaveText("Cancelled");
  await expect(buyer.page.getByText(/Refund of \$160\.00/)).toBeVisible();
  await shot(buyer.page, "flow6-cancelled-refunded");

  await buyer.page.goto(`/listings/${listingId}`);
  await expect(buyer.page.getByText("2 available")).toBeVisible();
});
