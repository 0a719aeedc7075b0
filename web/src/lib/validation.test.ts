import { describe, expect, it } from "vitest";
import { validateAddress, validateRegistration } from "./validation";

describe("validateRegistration", () => {
  const good = {
    email: "ada@example.com",
    username: "ada_l",
    password: "correct horse",
  };

  it("accepts a valid registration", () => {
    expect(validateRegistration(good)).toEqual({});
  });

  it("names each wrong field", () => {
    expect(
      validateRegistration({
        email: "nope",
        username: "a!",
        password: "short",
      }),
    ).toEqual({
      email: "Enter a valid email address.",
      username: "3 to 30 letters, digits, dots, dashes or underscores.",
      password: "At least 8 characters.",
    });
  });

  it("refuses a password equal to the username", () => {
    expect(
      validateRegistration({
        ...good,
        username: "password1",
        password: "PASSWORD1",
      }).password,
    ).toBe("Must differ from your username.");
  });
});

describe("validateAddress", () => {
  const good = {
    recipient_name: "Ada",
    line1: "1 Main St",
    line2: "",
    city: "London",
    region: "",
    postal_code: "",
    country: "gb",
    phone: "",
  };

  it("accepts a minimal address", () => {
    expect(validateAddress(good)).toEqual({});
  });

  it("keys its messages as the API names the fields", () => {
    expect(
      validateAddress({ ...good, city: " ", country: "GBR", phone: "12345" }),
    ).toEqual({
      city: "Enter the city.",
      country: "Two letters, e.g. US or GB.",
      phone: "International format, e.g. +14155550123.",
    });
  });
});
