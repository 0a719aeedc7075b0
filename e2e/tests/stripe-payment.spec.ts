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
import {
  freshStores,
  kStripeJsStub,
  startStripeStandIn,
  stripeSettings,
  succeededWebhook,
  type StandIn,
  type Stores,
} from "../lib/stripe";

// What the stub records (lib/stripe-js-stub.js).
interface StubRecord {
  clientSecrets: string[];
  confirmations: {
    clientSecret: string;
    redirect: string;
    returnUrl: string;
  }[];
}
const stubRecord = () =>
  (window as unknown as { __stripeStub: StubRecord }).__stripeStub;

// A server of its own with PAYMENT_PROVIDER=stripe, whose Stripe API is the stand-in; Stripe.js
// (which the browser cannot fetch here) is served from lib/stripe-js-stub.js.
const settings = stripeSettings();
let standIn: StandIn | undefined;
let stores: Stores | undefined;
let server: RunningServer;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  standIn = await startStripeStandIn();
  stores = freshStores("e2e_stripe", 15);
  server = await startServer({
    DATABASE_URL: stores.databaseUrl,
    REDIS_URL: stores.redisUrl,
    PAYMENT_PROVIDER: "stripe",
    STRIPE_SECRET_KEY: settings.secretKey,
    STRIPE_PUBLISHABLE_KEY: settings.publishableKey,
    STRIPE_WEBHOOK_SECRET: settings.webhookSecret,
    STRIPE_API_BASE: standIn.url,
  });
});
test.afterAll(async () => {
  try {
    await server?.stop();
  } finally {
    standIn?.stop();
    stores?.drop();
  }
});

test("a buyer pays with Stripe Elements: declined, a failed redirect, 3-D Secure failed, then passed; the order turns paid when Stripe's webhook lands", async ({
  browser,
}) => {
  const options = { baseURL: server.baseUrl };
  const seller = await signUp(browser, "seller", options);
  const listingId = await createListing(seller.page, {
    title: `Walnut chess set ${unique("")}`,
    price: "27.50",
    quantity: 2,
  });
  const buyer = await signUp(browser, "buyer", options);
  const page = buyer.page;

  // Every request that leaves the server: only Stripe.js, and only on the payment page.
  const external: { url: string; from: string }[] = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(server.baseUrl))
      external.push({ url: request.url(), from: page.url() });
  });
  await page
    .context()
    .route("https://js.stripe.com/**", (route) =>
      route.fulfill({ path: kStripeJsStub, contentType: "text/javascript" }),
    );

  await page.goto("/");
  await addToCart(page, listingId);
  const intentAnswer = page.waitForResponse(
    (response) =>
      response.request().method() === "POST" &&
      /\/api\/v1\/orders\/\d+\/payment$/.test(response.url()),
  );
  const orderId = await checkOut(page);
  const intent = (await (await intentAnswer).json()) as {
    provider: string;
    publishable_key: string;
    intent_id: string;
    client_secret: string;
  };
  expect(intent.provider).toBe("stripe");
  expect(intent.publishable_key).toBe(settings.publishableKey);

  // The Payment Element, mounted by Stripe.js with the intent's client secret.
  const cardNumber = page.getByLabel("Card number");
  await expect(cardNumber).toBeVisible();
  const pay = page.getByRole("button", { name: "Pay $27.50" });
  await expect(pay).toBeEnabled();
  expect(external.map((request) => new URL(request.url).origin)).toEqual([
    "https://js.stripe.com",
  ]);
  expect(external[0]!.from).toBe(`${server.baseUrl}/orders/${orderId}/pay`);
  expect((await page.evaluate(stubRecord)).clientSecrets).toEqual([
    intent.client_secret,
  ]);

  // Declined: Stripe's message, and the button is back for another card.
  await cardNumber.fill("4000 0000 0000 0002");
  await pay.click();
  await expect(page.getByRole("alert")).toHaveText(
    "Your card was declined. Try another card.",
  );
  await expect(pay).toBeEnabled();
  await shot(page, "stripe1-declined");
  const expectConfirmedAsStripeWants = async (count: number) => {
    const { confirmations } = await page.evaluate(stubRecord);
    expect(confirmations).toHaveLength(count);
    for (const confirmation of confirmations)
      expect(confirmation).toMatchObject({
        clientSecret: intent.client_secret,
        redirect: "if_required",
        returnUrl: `${server.baseUrl}/orders/${orderId}`,
      });
  };
  await expectConfirmedAsStripeWants(1);

  // A payment method that left for the bank's page and failed there comes back to the order
  // page as Stripe.js sends it: it says so and offers to pay again.
  await page.goto(
    `/orders/${orderId}?payment_intent=${intent.intent_id}&payment_intent_client_secret=${intent.client_secret}&redirect_status=failed`,
  );
  await expect(page.getByRole("alert")).toContainText(
    "The payment was not completed",
  );
  await shot(page, "stripe2-redirect-failed");
  await page.getByRole("link", { name: "Pay now" }).click();
  await expect(pay).toBeEnabled();

  // 3-D Secure: the bank's challenge in the page; failing it is named, passing it pays.
  await cardNumber.fill("4000 0025 0000 3155");
  await pay.click();
  const challenge = page.getByRole("dialog", { name: "3D Secure 2 Test Page" });
  await expect(challenge).toBeVisible();
  await expect(page.getByRole("button", { name: "Paying…" })).toBeDisabled();
  await shot(page, "stripe3-3ds-challenge");
  await challenge.getByRole("button", { name: "Fail" }).click();
  await expect(page.getByRole("alert")).toHaveText(
    "Your bank could not authenticate this payment. Try again, or use another card.",
  );
  await pay.click();
  await challenge.getByRole("button", { name: "Complete" }).click();

  // The order page waits for Stripe's word, which only the webhook brings.
  await expect(page).toHaveURL(new RegExp(`/orders/${orderId}$`));
  await expect(page.getByRole("status")).toContainText("Payment submitted");
  await expect(page.getByTestId("order-status")).toHaveText("Awaiting payment");
  await shot(page, "stripe4-waiting-for-webhook");
  // Since the page was loaded again: the failed check and the passed one.
  await expectConfirmedAsStripeWants(2);

  const webhook = succeededWebhook(settings, {
    id: intent.intent_id,
    amountCents: 2750,
    currency: "USD",
    orderId,
  });
  const delivered = await fetch(
    `${server.baseUrl}/api/v1/payments/webhooks/stripe`,
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": webhook.signature,
      },
      body: webhook.body,
    },
  );
  expect(delivered.status, await delivered.text()).toBe(200);
  await expect(page.getByTestId("order-status")).toHaveText("Paid");
  await expect(page.getByRole("status")).toHaveCount(0);
  await shot(page, "stripe5-paid");
  expect(
    external.every((request) =>
      request.url.startsWith("https://js.stripe.com/"),
    ),
  ).toBe(true);

  // The seller sees the sale.
  await seller.page.goto(`/sell/listings/${listingId}`);
  await expect(seller.page.getByTestId("stock")).toHaveText(
    /1 on hand · 0 reserved by unpaid orders · 1 available/,
  );
});
