import { describe, expect, it, vi } from "vitest";
import { createLocalTokenStore } from "./tokens";

describe("the token store", () => {
  it("keeps the pair in localStorage, where every tab reads it", () => {
    const store = createLocalTokenStore();
    store.set({ accessToken: "a1", refreshToken: "r1" });
    expect(createLocalTokenStore().get()).toEqual({
      accessToken: "a1",
      refreshToken: "r1",
    });
    store.set(null);
    expect(createLocalTokenStore().get()).toBeNull();
  });

  it("tells this tab when another tab rotates the pair or signs out", () => {
    const store = createLocalTokenStore();
    const listener = vi.fn();
    store.subscribe(listener);
    const rotated = JSON.stringify({ accessToken: "a2", refreshToken: "r2" });
    window.dispatchEvent(
      new StorageEvent("storage", {
        key: "marketplace.session",
        newValue: rotated,
        storageArea: localStorage,
      }),
    );
    window.dispatchEvent(
      new StorageEvent("storage", {
        key: "marketplace.session",
        newValue: null,
        storageArea: localStorage,
      }),
    );
    window.dispatchEvent(
      new StorageEvent("storage", {
        key: "other",
        newValue: "x",
        storageArea: localStorage,
      }),
    );
    expect(listener.mock.calls).toEqual([
      [{ accessToken: "a2", refreshToken: "r2" }],
      [null],
    ]);
  });

  it("treats a damaged entry as no session", () => {
    localStorage.setItem("marketplace.session", "{not json");
    expect(createLocalTokenStore().get()).toBeNull();
  });
});
