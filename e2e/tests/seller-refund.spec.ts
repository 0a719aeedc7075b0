import { expect, test } from "@playwright/test";
import { buyAndPay, createListing, shot, signUp, unique } from "../lib/helpers";

test("a seller who cannot ship one line refunds it; the buyer sees the refund and keeps the rest", async ({
  browser,
}) => {
  const seller = await signUp(browser, "seller");
  const lampTitle = `Brass lamp ${unique("")}`;
  const lampId = await createListing(seller.page, {
    title: lampTitle,
    price: "25",
    quantity: 1,
  });
  const chairId = await createListing(seller.page, {
    title: `Oak chair ${unique("")}`,
    price: "40",
    quantity: 1,
  });
  const buyer = await signUp(browser, "buyer");
  const orderId = await buyAndPay(buyer.page, [
    [lampId, 1],
    [chairId, 1],
  ]);

  await seller.page.goto(`/orders/${orderId}`);
  await expect(
    seller.page.getByText("Cannot ship it? Refund this item"),
  ).toHaveCount(2);
  const lampRow = seller.page
    .locator("div.flex.gap-3")
    .filter({ hasText: lampTitle });
  await lampRow.getByText("Cannot ship it? Refund this item").click();
  await lampRow
    .getByLabel("Reason for the buyer (optional)")
    .fill("Broken in storage, sorry.");
  seller.page.once("dialog", (dialog) => dialog.accept());
  await lampRow.getByRole("button", { name: "Refund item" }).click();
  await expect(
    seller.page.getByText(new RegExp(`Refund of \\$25\\.00 for ${lampTitle}`)),
  ).toBeVisible();
  await expect(seller.page.getByTestId("order-status")).toHaveText("Paid");

  await buyer.page.goto(`/orders/${orderId}`);
  await expect(
    buyer.page.getByText(
      new RegExp(
        `Refund of \\$25\\.00 for ${lampTitle} \\((pending|succeeded)\\): the seller could not ship it`,
      ),
    ),
  ).toBeVisible();
  await expect(buyer.page.getByTestId("order-status")).toHaveText("Paid");
  await expect(buyer.page.getByText("−$25.00")).toBeVisible();
  await shot(buyer.page, "seller-refunded-one-line");

  // The refunded lamp is for sale again; the chair stays sold.
  await buyer.page.goto(`/listings/${lampId}`);
  await expect(buyer.page.getByText("1 available")).toBeVisible();
  await buyer.page.goto(`/listings/${chairId}`);
  await expect(buyer.page.getByRole("status")).toHaveText("Sold out");
});
