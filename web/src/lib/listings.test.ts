import { describe, expect, it } from "vitest";
import type { Listing } from "../api/types";
import { changedFields } from "./listings";

const base = {
  title: "Oak shelf",
  description: "Solid oak.",
  price_cents: 2500,
  quantity: 2,
  category: "furniture",
  condition: "good",
} as Listing;

describe("changedFields", () => {
  it("is empty when nothing changed", () => {
    expect(changedFields(base, { ...base })).toEqual({});
  });

  it("has only the fields that differ from the listing as it was opened", () => {
    expect(
      changedFields(base, { ...base, quantity: 5, description: "" }),
    ).toEqual({
      quantity: 5,
      description: "",
    });
  });
});
