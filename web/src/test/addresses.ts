import type { AddressCheck, SavedAddress } from "../api/types";

const kAda = {
  recipient_name: "Ada Lovelace",
  line1: "12 St James's Square",
  line2: "",
  city: "London",
  region: "",
  postal_code: "SW1Y 4JH",
  country: "GB",
  phone: "",
};

// A saved address as the API answers it, checked by the offline geocoder.
export function savedAddress(
  overrides: Partial<SavedAddress> = {},
): SavedAddress {
  return {
    id: 1,
    ...kAda,
    is_default: true,
    validation: {
      precision: "city",
      latitude: 51.50853,
      longitude: -0.12574,
      provider: "offline",
      place_id: "geonames:2643743",
      validated_at: "2026-01-01T00:00:00Z",
    },
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

// What POST /geo/validate answers: valid unless problems are given.
export function addressCheck(
  problems: AddressCheck["problems"] = [],
): AddressCheck {
  return {
    valid: problems.length === 0,
    address: kAda,
    precision: problems.length === 0 ? "city" : "none",
    latitude: null,
    longitude: null,
    provider: "offline",
    place_id: null,
    problems,
  };
}
