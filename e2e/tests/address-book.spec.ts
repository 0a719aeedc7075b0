import { expect, test } from "@playwright/test";
import { fillAddress, shot, signUp } from "../lib/helpers";

test("the address book: add with a suggestion picked by keyboard, a problem named at its field, edit, set default, delete", async ({
  browser,
}) => {
  const { page } = await signUp(browser, "addresses");
  await page.goto("/settings");
  await page.getByRole("link", { name: "Manage your address book" }).click();
  await expect(page).toHaveTitle("Address book · Marketplace");
  await expect(
    page.getByText("You have no saved addresses yet."),
  ).toBeVisible();

  // The first address: the city typed loosely and chosen from the suggestions with the keyboard;
  // the server stores its own spelling and says how exactly it placed it.
  await page.getByRole("button", { name: "Add an address" }).click();
  const form = page.getByRole("form", { name: "New address" });
  await form.getByLabel("Full name").fill("Ana Souza");
  await form.getByLabel("Address line 1").fill("Rua Direita 10");
  await form.getByLabel("Country code").fill("BR");
  const city = form.getByRole("combobox", { name: "City" });
  await city.pressSequentially("sao pa");
  await expect(
    form.getByRole("option", { name: "São Paulo, BR" }),
  ).toBeVisible();
  await expect(city).toHaveAttribute("aria-expanded", "true");
  await shot(page, "addresses-suggestions");
  await city.press("ArrowDown");
  await expect(city).toHaveAttribute(
    "aria-activedescendant",
    (await form.getByRole("option").first().getAttribute("id"))!,
  );
  await city.press("Enter");
  await expect(city).toHaveValue("São Paulo");
  await expect(city).toHaveAttribute("aria-expanded", "false");
  await form.getByLabel("Postal code (optional)").fill("01001000");
  await form.getByRole("button", { name: "Save address" }).click();
  await expect(page.getByText(/^Saved as:/)).toHaveText(
    "Saved as: Ana Souza, Rua Direita 10, 01001-000 São Paulo, BR. Placed to the city (offline check).",
  );
  const book = page.getByRole("list", { name: "Saved addresses" });
  const ana = book.getByRole("listitem", { name: /^Ana Souza/ });
  await expect(ana).toContainText("Default");
  await shot(page, "addresses-first-saved");

  // A city the geocoder does not know is named at the field, and nothing is saved.
  await page.getByRole("button", { name: "Add an address" }).click();
  await fillAddress(page);
  await form.getByLabel("Country code").fill("US");
  await form.getByRole("combobox", { name: "City" }).fill("Qwxzplorbville");
  await form.getByLabel("Postal code (optional)").fill("");
  await form.getByRole("button", { name: "Save address" }).click();
  await expect(
    form.getByRole("combobox", { name: "City" }),
  ).toHaveAccessibleDescription("The city was not found in US.");
  await expect(form.getByRole("combobox", { name: "City" })).toHaveAttribute(
    "aria-invalid",
    "true",
  );
  await shot(page, "addresses-field-error");
  await fillAddress(page);
  await form.getByRole("button", { name: "Save address" }).click();
  const ada = book.getByRole("listitem", { name: /^Ada Lovelace/ });
  await expect(ada).toContainText("SW1Y 4JH London");
  await expect(ada).not.toContainText("Default");
  await expect(book.getByRole("listitem")).toHaveCount(2);

  // Edit: a second line, and the server's normalised postal code.
  await ada.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("form", { name: /^Edit the address of Ada/ });
  await edit.getByLabel("Address line 2 (optional)").fill("Flat 3");
  await edit.getByLabel("Postal code (optional)").fill("sw1y4jh");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await expect(ada).toContainText("Flat 3");
  await expect(ada).toContainText("SW1Y 4JH London");
  await shot(page, "addresses-edited");

  // The default moves to Ada; deleting it makes the remaining one the default again.
  await ada.getByRole("button", { name: "Make default" }).click();
  await expect(ada).toContainText("Default");
  await expect(ana.getByRole("button", { name: "Make default" })).toBeVisible();
  await shot(page, "addresses-default-changed");
  await page.reload();
  await expect(book.getByRole("listitem").first()).toContainText(
    "Ada Lovelace",
  );
  // Deleting asks first; saying no keeps the address.
  page.once("dialog", (dialog) => dialog.dismiss());
  await ada.getByRole("button", { name: "Delete" }).click();
  await expect(book.getByRole("listitem")).toHaveCount(2);
  page.once("dialog", (dialog) => dialog.accept());
  await ada.getByRole("button", { name: "Delete" }).click();
  await expect(book.getByRole("listitem")).toHaveCount(1);
  await expect(ana).toContainText("Default");
  await shot(page, "addresses-after-delete");
});
