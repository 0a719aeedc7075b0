import { expect, test } from "@playwright/test";
import { createListing, signUp, unique } from "../lib/helpers";

test("an edit made on a stale copy of a listing is stopped, then applied to the latest version without undoing the other edit", async ({
  browser,
}) => {
  const seller = await signUp(browser, "editor");
  const listingId = await createListing(seller.page, {
    title: `Oak shelf ${unique("")}`,
    price: "25",
    quantity: 2,
  });
  const first = seller.page;
  const second = await first.context().newPage();
  await second.goto(`/sell/listings/${listingId}`);
  await expect(second.getByLabel("Price (USD)")).toHaveValue("25.00");

  await first.getByLabel("Price (USD)").fill("27.50");
  await first.getByRole("button", { name: "Save changes" }).click();
  await expect(first.getByRole("status")).toHaveText("Saved.");

  await second.getByLabel("Quantity on hand").fill("5");
  await second.getByRole("button", { name: "Save changes" }).click();
  await expect(second.getByRole("alert")).toContainText("changed elsewhere");
  await second.getByRole("button", { name: "Save changes" }).click();
  await expect(second.getByRole("status")).toHaveText("Saved.");
  await expect(second.getByTestId("stock")).toContainText("5 on hand");

  // Each tab sent only what it changed: the new price and the new quantity both stand.
  await first.goto(`/listings/${listingId}`);
  await expect(first.getByText("5 available")).toBeVisible();
  await expect(first.getByText("$27.50")).toBeVisible();
});
