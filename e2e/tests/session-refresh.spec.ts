import { expect, test, type Page } from "@playwright/test";
import { shot, signUp } from "../lib/helpers";

const kKey = "marketplace.session";

async function storedSession(
  page: Page,
): Promise<{ accessToken: string; refreshToken: string }> {
  return JSON.parse(
    (await page.evaluate((key) => localStorage.getItem(key), kKey)) ?? "null",
  );
}

// An access token the server refuses as it would an expired one: same shape, wrong signature.
async function spoilAccessToken(page: Page) {
  await page.evaluate((key) => {
    const session = JSON.parse(localStorage.getItem(key)!);
    const [header, payload] = session.accessToken.split(".");
    session.accessToken = `${header}.${payload}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
    localStorage.setItem(key, JSON.stringify(session));
  }, kKey);
}

test("an access token that stops working mid-session is refreshed without the user noticing, in two tabs at once", async ({
  browser,
}) => {
  const buyer = await signUp(browser, "tabs");
  const first = buyer.page;
  const second = await first.context().newPage();
  await second.goto("/orders");
  await expect(second.getByRole("heading", { name: "Orders" })).toBeVisible();
  const before = await storedSession(first);

  await spoilAccessToken(first);
  // Both tabs ask at once with the refused token: one rotates, the other takes the new pair
  // (a second rotation with the same refresh token would revoke the whole session).
  await Promise.all([first.goto("/orders"), second.goto("/cart")]);
  await expect(
    first.getByText("You have not ordered anything yet."),
  ).toBeVisible();
  await expect(second.getByText("Your cart is empty.")).toBeVisible();
  await expect(first).toHaveURL(/\/orders$/);
  await expect(second).toHaveURL(/\/cart$/);

  const after = await storedSession(second);
  expect(after.refreshToken).not.toBe(before.refreshToken);
  expect(after.accessToken).not.toBe(before.accessToken);
  // The rotation is in the journal every tab reads under the lock (IndexedDB), so a tab whose
  // localStorage still has the spent token adopts the new pair instead of spending it again.
  const journal = await first.evaluate(
    () =>
      new Promise<unknown>((resolve, reject) => {
        const open = indexedDB.open("marketplace");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result
            .transaction("auth")
            .objectStore("auth")
            .get("last-rotation");
          get.onerror = () => reject(get.error);
          get.onsuccess = () => resolve(get.result);
        };
      }),
  );
  expect(journal).toEqual({ from: before.refreshToken, to: after });

  // Still signed in everywhere afterwards: the session was not revoked by a reused token.
  await first.reload();
  await expect(first.getByRole("button", { name: "Sign out" })).toBeVisible();
  await expect(
    first.getByText("You have not ordered anything yet."),
  ).toBeVisible();
  await shot(first, "flow5-after-refresh");
});

test("a refused refresh signs the user out cleanly", async ({ browser }) => {
  const buyer = await signUp(browser, "revoked");
  await spoilAccessToken(buyer.page);
  await buyer.page.evaluate((key) => {
    const session = JSON.parse(localStorage.getItem(key)!);
    session.refreshToken = "not-a-refresh-token";
    localStorage.setItem(key, JSON.stringify(session));
  }, kKey);
  await buyer.page.goto("/orders");
  await expect(buyer.page).toHaveURL(/\/signin\?next=%2Forders$/);
  await expect(buyer.page.getByRole("link", { name: "Sign in" })).toBeVisible();
  expect(
    await buyer.page.evaluate((key) => localStorage.getItem(key), kKey),
  ).toBeNull();
});
