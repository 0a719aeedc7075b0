import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import {
  addToCart,
  checkOut,
  createListing,
  goToCheckout,
  kJpeg,
  signUp,
  unique,
} from "../lib/helpers";

// WCAG 2 A and AA rules; any serious or critical violation fails, with what axe found.
async function expectAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
    );
  expect(serious, `${what}: ${serious.join("\n")}`).toEqual([]);
}

test("every page passes axe's WCAG 2.1 A/AA checks, signed out and in", async ({
  browser,
}) => {
  const seller = await signUp(browser, "a11yseller");
  const listingId = await createListing(seller.page, {
    title: `Linen throw ${unique("")}`,
    price: "35",
    quantity: 4,
  });
  await seller.page.locator('input[type="file"]').setInputFiles([kJpeg]);
  await expect(
    seller.page.getByRole("img", { name: "Photo 1 (main)" }),
  ).toBeVisible();
  await expectAccessible(seller.page, "listing editor");
  await seller.page.goto("/sell");
  await expectAccessible(seller.page, "seller's listings");
  await seller.page.goto("/settings");
  await expectAccessible(seller.page, "settings");
  await seller.page.goto("/settings/addresses");
  await seller.page.getByRole("button", { name: "Add an address" }).click();
  await expectAccessible(seller.page, "address book, adding an address");

  const visitor = await (await browser.newContext()).newPage();
  for (const path of [
    "/",
    "/signin",
    "/signup",
    `/listings/${listingId}`,
    "/no-such-page",
  ]) {
    await visitor.goto(path);
    await visitor.getByRole("heading", { level: 1 }).waitFor();
    await expectAccessible(visitor, path);
  }

  const buyer = await signUp(browser, "a11ybuyer");
  await addToCart(buyer.page, listingId);
  await expectAccessible(buyer.page, "listing, signed in");
  await buyer.page.goto("/cart");
  await expectAccessible(buyer.page, "cart");
  await goToCheckout(buyer.page);
  await expectAccessible(buyer.page, "checkout, adding an address");
  const orderId = await checkOut(buyer.page);
  await expectAccessible(buyer.page, "payment");
  await buyer.page.goto(`/orders/${orderId}`);
  await expect(buyer.page.getByTestId("order-status")).toBeVisible();
  await expectAccessible(buyer.page, "order");
  await buyer.page.goto("/orders");
  await expect(
    buyer.page.getByRole("link", { name: new RegExp(`Order #${orderId}`) }),
  ).toBeVisible();
  await expectAccessible(buyer.page, "orders");
});

test("the keyboard reaches the content first and every control of the search form", async ({
  page,
}) => {
  await page.goto("/");
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("searchbox", { name: "Search" })).toBeFocused();
  await page.keyboard.type("lamp");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\?q=lamp$/);
  await expect(page).toHaveTitle("Search: lamp · Marketplace");
});
