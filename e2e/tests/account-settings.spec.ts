import { expect, test } from "@playwright/test";
import { shot, signUp } from "../lib/helpers";

test("a user renames themselves, is told a wrong current password where they typed it, and deletes their account", async ({
  browser,
}) => {
  const user = await signUp(browser, "settler");
  const { page } = user;
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page).toHaveTitle("Settings · Marketplace");

  await page.getByLabel("Display name").fill("Grace Hopper");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("status")).toHaveText("Profile saved.");
  await expect(page.getByRole("link", { name: "Settings" })).toHaveText(
    "Grace Hopper",
  );

  await page.getByLabel("Current password").fill("not my password");
  await page.getByLabel("New password").fill("another long password");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByLabel("Current password")).toHaveAccessibleDescription(
    "is incorrect",
  );
  await shot(page, "settings-wrong-password");

  const remove = page.getByRole("button", { name: "Delete my account" });
  await expect(remove).toBeDisabled();
  await page.getByLabel(/Type your username/).fill(user.username);
  await remove.click();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

  await page.goto("/signin");
  await page.getByLabel("Username or email").fill(user.username);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await page.goto(`/users/${user.username}`);
  await expect(
    page.getByRole("heading", { name: "Seller not found" }),
  ).toBeVisible();
});
