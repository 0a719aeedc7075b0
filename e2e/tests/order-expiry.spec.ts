import { expect, test } from "@playwright/test";
import {
  addToCart,
  checkOut,
  createListing,
  shot,
  signUp,
  unique,
} from "../lib/helpers";
import { startServer, type RunningServer } from "../lib/server";

// A server of its own whose unpaid orders expire after 5 seconds.
let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer({ ORDER_PAYMENT_TTL: "5s" });
});
test.afterAll(async () => {
  await server?.stop();
});

test("an order left unpaid expires, says so, and its stock returns", async ({
  browser,
}) => {
  const options = { baseURL: server.baseUrl };
  const seller = await signUp(browser, "seller", options);
  const listingId = await createListing(seller.page, {
    title: `Copper kettle ${unique("")}`,
    price: "30",
    quantity: 1,
  });
  const buyer = await signUp(browser, "buyer", options);
  await addToCart(buyer.page, listingId);
  const orderId = await checkOut(buyer.page);

  // While it is pending, the one unit is reserved: nobody else can buy it.
  await seller.page.goto(`/sell/listings/${listingId}`);
  await expect(seller.page.getByTestId("stock")).toHaveText(
    /1 on hand · 1 reserved by unpaid orders · 0 available/,
  );

  // The payment page counts down, then tells the buyer the order expired.
  await expect(buyer.page.getByRole("status")).toContainText(
    "This order expired before it was paid",
    {
      timeout: 15_000,
    },
  );
  await shot(buyer.page, "flow3-order-expired");
  await buyer.page.goto(`/orders/${orderId}`);
  await expect(buyer.page.getByTestId("order-status")).toHaveText("Expired");

  await seller.page.reload();
  await expect(seller.page.getByTestId("stock")).toHaveText(
    /1 on hand · 0 reserved by unpaid orders · 1 available/,
  );
});
