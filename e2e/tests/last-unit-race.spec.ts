import { expect, test } from "@playwright/test";
import {
  addToCart,
  createListing,
  goToCheckout,
  shot,
  signUp,
  unique,
  useAddressAtCheckout,
} from "../lib/helpers";

test("two buyers race for the last unit: one order, and a clear sold-out message for the other", async ({
  browser,
}) => {
  const seller = await signUp(browser, "seller");
  const title = `Last teapot ${unique("")}`;
  const listingId = await createListing(seller.page, {
    title,
    price: "20",
    quantity: 1,
  });

  const buyers = [
    await signUp(browser, "racer"),
    await signUp(browser, "racer"),
  ];
  for (const buyer of buyers) {
    await addToCart(buyer.page, listingId);
    await goToCheckout(buyer.page);
    await useAddressAtCheckout(buyer.page);
  }
  await Promise.all(
    buyers.map((buyer) =>
      buyer.page.getByRole("button", { name: "Place order" }).click(),
    ),
  );

  // Exactly one reaches the payment page; the other is told, next to the line, that it sold out.
  const outcomes = await Promise.all(
    buyers.map(async ({ page }) => {
      const paying = page
        .waitForURL(/\/orders\/\d+\/pay$/)
        .then(() => "ordered");
      const refused = page
        .getByText("Sold out: someone else just bought the last one.")
        .waitFor()
        .then(() => "sold out");
      return Promise.race([paying, refused]);
    }),
  );
  expect([...outcomes].sort()).toEqual(["ordered", "sold out"]);
  const loser = buyers[outcomes.indexOf("sold out")]!.page;
  await expect(loser.getByRole("alert")).toContainText("cannot be bought");
  await shot(loser, "flow4-sold-out");

  // What stands after the race: one order for the seller, nothing left to buy.
  await seller.page.goto("/orders?role=seller");
  await expect(
    seller.page.getByRole("link", { name: new RegExp(title) }),
  ).toHaveCount(1);
  await loser.goto(`/listings/${listingId}`);
  await expect(loser.getByRole("status")).toHaveText("Sold out");
  await expect(loser.getByRole("button", { name: "Add to cart" })).toHaveCount(
    0,
  );
});
