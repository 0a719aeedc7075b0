import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/api";
import type { Listing, OwnListingSummary } from "../api/types";
import { renderPage } from "../test/render";
import { SellPage } from "./SellPage";

vi.mock("../api/api", async (importOriginal) => {
  const { withMockedCalls } = await import("../test/api-mock");
  return withMockedCalls(await importOriginal(), [
    "myListings",
    "setListingActive",
    "me",
  ]);
});

function own(overrides: Partial<OwnListingSummary>): OwnListingSummary {
  return {
    id: 1,
    title: "Brass lamp",
    price_cents: 4500,
    currency: "USD",
    available: 1,
    quantity: 3,
    status: "active",
    category: "home-garden",
    condition: "good",
    seller: { username: "alice", display_name: "Alice" },
    main_image: null,
    created_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

const lamp = own({ id: 1 });
const chair = own({
  id: 2,
  title: "Oak chair",
  status: "inactive",
  available: 2,
  quantity: 2,
});

describe("SellPage", () => {
  beforeEach(() => {
    vi.mocked(api.myListings).mockReset();
    vi.mocked(api.setListingActive).mockReset();
    vi.mocked(api.myListings).mockImplementation(async ({ status }) => ({
      items: [lamp, chair].filter(
        (item) => status === "all" || item.status === status,
      ),
      next_cursor: null,
    }));
  });

  it("lists active and inactive listings with what is on hand and reserved", async () => {
    renderPage(<SellPage />, { path: "/sell" });
    const rows = await screen.findAllByRole("listitem");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByTestId("stock").textContent).toBe(
      "3 on hand · 2 reserved · 1 available",
    );
    expect(within(rows[1]!).getByText("Inactive")).toBeTruthy();
    expect(api.myListings).toHaveBeenCalledWith(
      expect.objectContaining({ status: "all" }),
    );
    expect(
      screen.getByRole("button", { name: "All" }).getAttribute("aria-pressed"),
    ).toBe("true");
  });

  it("filters by status", async () => {
    renderPage(<SellPage />, { path: "/sell" });
    await screen.findByText("Oak chair");
    await userEvent.click(screen.getByRole("button", { name: "Inactive" }));
    await waitFor(() => expect(screen.queryByText("Brass lamp")).toBeNull());
    expect(screen.getByText("Oak chair")).toBeTruthy();
    expect(api.myListings).toHaveBeenLastCalledWith(
      expect.objectContaining({ status: "inactive" }),
    );
  });

  it("activates an inactive listing and deactivates an active one", async () => {
    vi.mocked(api.setListingActive).mockResolvedValue({
      id: 2,
    } as Listing);
    renderPage(<SellPage />, { path: "/sell" });
    await userEvent.click(
      await screen.findByRole("button", { name: "Activate Oak chair" }),
    );
    expect(api.setListingActive).toHaveBeenCalledWith(2, true);
    const deactivate = screen.getByRole("button", {
      name: "Deactivate Brass lamp",
    });
    await waitFor(() => expect(deactivate).toHaveProperty("disabled", false));
    await userEvent.click(deactivate);
    expect(api.setListingActive).toHaveBeenLastCalledWith(1, false);
    // The list is asked for again after each change.
    await waitFor(() =>
      expect(vi.mocked(api.myListings).mock.calls.length).toBeGreaterThan(1),
    );
  });
});
