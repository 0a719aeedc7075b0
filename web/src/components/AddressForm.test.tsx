import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/api";
import type { PlaceSuggestion } from "../api/types";
import { addressCheck, savedAddress } from "../test/addresses";
import { apiError } from "../test/axios";
import { renderPage } from "../test/render";
import { AddressForm } from "./AddressForm";

vi.mock("../api/api", async (importOriginal) => {
  const { withMockedCalls } = await import("../test/api-mock");
  return withMockedCalls(await importOriginal(), [
    "validateAddress",
    "suggestPlaces",
    "me",
  ]);
});

const place = (city: string, region = ""): PlaceSuggestion => ({
  description: region ? `${city}, ${region}, US` : `${city}, GB`,
  city,
  region,
  country: region ? "US" : "GB",
  postal_code: "",
  place_id: `geonames:${city}-${region}`,
});

function renderForm(onSave = vi.fn()) {
  renderPage(
    <AddressForm
      title="New address"
      submitLabel="Save address"
      onSave={onSave}
    />,
  );
  return onSave;
}

async function fillRequired() {
  await userEvent.type(screen.getByLabelText("Full name"), "Ada Lovelace");
  await userEvent.type(
    screen.getByLabelText("Address line 1"),
    "12 St James's Square",
  );
  await userEvent.type(screen.getByLabelText("Country code"), "gb");
  await userEvent.type(
    screen.getByRole("combobox", { name: "City" }),
    "London",
  );
}

describe("AddressForm", () => {
  beforeEach(() => {
    vi.mocked(api.validateAddress).mockReset();
    vi.mocked(api.suggestPlaces).mockReset();
    vi.mocked(api.suggestPlaces).mockResolvedValue([]);
  });

  it("shows the server's field errors next to their fields", async () => {
    vi.mocked(api.validateAddress).mockResolvedValue(addressCheck());
    const onSave = renderForm(
      vi.fn().mockRejectedValue(
        apiError(422, "validation_failed", "Check the address.", [
          { field: "postal_code", message: "is not a valid postal code in GB" },
          {
            field: "phone",
            message: "must be in E.164 form, e.g. +14155550123",
          },
        ]),
      ),
    );
    await fillRequired();
    await userEvent.type(screen.getByLabelText("Postal code (optional)"), "X1");
    await userEvent.click(screen.getByRole("button", { name: "Save address" }));

    const postal = await screen.findByRole("textbox", {
      name: "Postal code (optional)",
      description: "The postal code is not a valid postal code in GB.",
    });
    expect(postal.getAttribute("aria-invalid")).toBe("true");
    expect(
      screen.getByRole("textbox", {
        name: "Phone (optional)",
        description:
          "The phone number must be in E.164 form, e.g. +14155550123.",
      }),
    ).toBeTruthy();
    expect(onSave).toHaveBeenCalledWith(
      {
        recipient_name: "Ada Lovelace",
        line1: "12 St James's Square",
        city: "London",
        postal_code: "X1",
        country: "GB",
      },
      false,
    );
    // Typing in the field clears its message; the other stays.
    await userEvent.type(postal, "Y");
    expect(postal.getAttribute("aria-invalid")).toBeNull();
    expect(screen.getByText(/must be in E\.164 form/)).toBeTruthy();
  });

  it("shows the geocoder's problems at their fields and saves nothing", async () => {
    vi.mocked(api.validateAddress).mockResolvedValue(
      addressCheck([
        {
          field: "city",
          message: "is not a place in DE (there is a Toronto in CA)",
        },
      ]),
    );
    const onSave = renderForm();
    await fillRequired();
    await userEvent.click(screen.getByRole("button", { name: "Save address" }));
    expect(
      await screen.findByRole("combobox", {
        name: "City",
        description: "The city is not a place in DE (there is a Toronto in CA)",
      }),
    ).toBeTruthy();
    expect(onSave).not.toHaveBeenCalled();
  });

  it("suggests cities once typing pauses, and picks one with the keyboard", async () => {
    vi.mocked(api.suggestPlaces).mockResolvedValue([
      place("Springfield", "IL"),
      place("Springfield", "MO"),
      place("Springdale", "AR"),
    ]);
    const onSave = renderForm(vi.fn().mockResolvedValue(savedAddress()));
    vi.mocked(api.validateAddress).mockResolvedValue(addressCheck());
    await userEvent.type(screen.getByLabelText("Country code"), "us");
    const city = screen.getByRole("combobox", { name: "City" });
    expect(city.getAttribute("aria-expanded")).toBe("false");
    await userEvent.type(city, "Spring");

    const options = await screen.findAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual([
      "Springfield, IL, US",
      "Springfield, MO, US",
      "Springdale, AR, US",
    ]);
    // Debounced: one request for what was typed, not one per key.
    expect(api.suggestPlaces).toHaveBeenCalledTimes(1);
    expect(api.suggestPlaces).toHaveBeenCalledWith(
      "Spring",
      "US",
      expect.stringMatching(/^[A-Za-z0-9_-]+$/),
      expect.anything(),
    );
    expect(city.getAttribute("aria-expanded")).toBe("true");
    expect(city.getAttribute("aria-controls")).toBe(
      screen.getByRole("listbox", { name: "Suggested places" }).id,
    );

    await userEvent.keyboard("{ArrowDown}{ArrowDown}");
    expect(city.getAttribute("aria-activedescendant")).toBe(options[1]!.id);
    expect(options[1]!.getAttribute("aria-selected")).toBe("true");
    expect(options[0]!.getAttribute("aria-selected")).toBe("false");
    await userEvent.keyboard("{Enter}");

    expect(city).toHaveProperty("value", "Springfield");
    expect(screen.getByLabelText("Region (optional)")).toHaveProperty(
      "value",
      "MO",
    );
    expect(screen.queryByRole("option")).toBeNull();
    expect(city.getAttribute("aria-expanded")).toBe("false");
    expect(onSave).not.toHaveBeenCalled();
    expect(city).toBe(document.activeElement);
  });

  it("closes the suggestions on Escape and wraps around with the arrow keys", async () => {
    vi.mocked(api.suggestPlaces).mockResolvedValue([
      place("London"),
      place("Londonderry"),
    ]);
    renderForm();
    const city = screen.getByRole("combobox", { name: "City" });
    await userEvent.type(city, "Lond");
    const options = await screen.findAllByRole("option");
    await userEvent.keyboard("{ArrowUp}");
    expect(city.getAttribute("aria-activedescendant")).toBe(options[1]!.id);
    await userEvent.keyboard("{ArrowDown}");
    expect(city.getAttribute("aria-activedescendant")).toBe(options[0]!.id);
    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("option")).toBeNull());
    expect(city).toHaveProperty("value", "Lond");
    expect(city.getAttribute("aria-activedescendant")).toBeNull();
  });

  it("picks a suggestion with the mouse, country included", async () => {
    vi.mocked(api.suggestPlaces).mockResolvedValue([place("Manchester")]);
    renderForm();
    await userEvent.type(
      screen.getByRole("combobox", { name: "City" }),
      "manch",
    );
    await userEvent.click(
      await screen.findByRole("option", { name: "Manchester, GB" }),
    );
    expect(screen.getByRole("combobox", { name: "City" })).toHaveProperty(
      "value",
      "Manchester",
    );
    expect(screen.getByLabelText("Country code")).toHaveProperty("value", "GB");
    // Without a country typed, suggestions come from anywhere.
    expect(api.suggestPlaces).toHaveBeenCalledWith(
      "manch",
      undefined,
      expect.any(String),
      expect.anything(),
    );
  });
});
