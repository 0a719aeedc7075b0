import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/api";
import { renderPage } from "../test/render";
import { apiError } from "../test/axios";
import { SignUpPage } from "./SignUpPage";

vi.mock("../api/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../api/api")>();
  return { ...actual, api: { ...actual.api, register: vi.fn(), me: vi.fn() } };
});

describe("SignUpPage", () => {
  beforeEach(() => {
    vi.mocked(api.register).mockReset();
    localStorage.clear();
  });

  it("names each wrong field next to it without calling the API", async () => {
    renderPage(<SignUpPage />, { path: "/signup" });
    await userEvent.type(screen.getByLabelText("Email"), "nope");
    await userEvent.click(
      screen.getByRole("button", { name: "Create account" }),
    );
    expect(screen.getByRole("textbox", { name: "Email" })).toHaveProperty(
      "ariaInvalid",
      "true",
    );
    expect(
      screen.getByRole("textbox", {
        name: "Email",
        description: "Enter a valid email address.",
      }),
    ).toBeTruthy();
    expect(
      screen.getByRole("textbox", {
        name: "Username",
        description: "3 to 30 letters, digits, dots, dashes or underscores.",
      }),
    ).toBeTruthy();
    expect(api.register).not.toHaveBeenCalled();
  });

  it("shows the server's message next to the field it names", async () => {
    vi.mocked(api.register).mockRejectedValue(
      apiError(409, "conflict", "Already registered.", [
        { field: "username", message: "is already taken" },
      ]),
    );
    renderPage(<SignUpPage />, { path: "/signup" });
    await userEvent.type(screen.getByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Username"), "ada");
    await userEvent.type(
      screen.getByLabelText("Password"),
      "correct horse battery",
    );
    await userEvent.click(
      screen.getByRole("button", { name: "Create account" }),
    );
    expect(
      await screen.findByRole("textbox", {
        name: "Username",
        description: "is already taken",
      }),
    ).toBeTruthy();
    expect(api.register).toHaveBeenCalledWith({
      email: "ada@example.com",
      username: "ada",
      password: "correct horse battery",
    });
  });
});
