import {
  AxiosError,
  AxiosHeaders,
  type AxiosAdapter,
  type InternalAxiosRequestConfig,
} from "axios";
import { describe, expect, it, vi } from "vitest";
import {
  createApiClient,
  RefreshRefused,
  type LockRunner,
  type Refresher,
} from "./client";
import { createMemoryTokenStore, type Session } from "./tokens";

// A server that accepts only the access token in `valid.access`.
function fakeServer() {
  const valid = { access: "a1" };
  const seen: string[] = [];
  const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig) => {
    const auth = String(
      AxiosHeaders.from(config.headers).get("Authorization") ?? "",
    );
    seen.push(`${config.url} ${auth}`);
    const response = {
      data:
        auth === `Bearer ${valid.access}`
          ? { ok: config.url }
          : { error: { code: "invalid_token" } },
      status: auth === `Bearer ${valid.access}` ? 200 : 401,
      statusText: "",
      headers: {},
      config,
    };
    if (response.status === 200) return response;
    throw new AxiosError("401", "ERR_BAD_REQUEST", config, null, response);
  };
  return { valid, seen, adapter };
}

const noLock: LockRunner = (_name, task) => task();

describe("the API client", () => {
  it("attaches the access token", async () => {
    const server = fakeServer();
    const store = createMemoryTokenStore({
      accessToken: "a1",
      refreshToken: "r1",
    });
    const http = createApiClient({
      store,
      adapter: server.adapter,
      lock: noLock,
    });
    const { data } = await http.get("/api/v1/me");
    expect(data).toEqual({ ok: "/api/v1/me" });
    expect(server.seen).toEqual(["/api/v1/me Bearer a1"]);
  });

  it("refreshes once for concurrent 401s, stores the rotated pair and replays every request", async () => {
    const server = fakeServer();
    server.valid.access = "a2";
    const store = createMemoryTokenStore({
      accessToken: "a1",
      refreshToken: "r1",
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const refresh = vi.fn<Refresher>(async (token) => {
      expect(token).toBe("r1");
      await gate;
      return { accessToken: "a2", refreshToken: "r2" };
    });
    const http = createApiClient({
      store,
      adapter: server.adapter,
      refresh,
      lock: noLock,
    });

    const calls = ["/x", "/y", "/z"].map((url) => http.get(url));
    await vi.waitFor(() => expect(refresh).toHaveBeenCalledTimes(1));
    release();
    const answers = await Promise.all(calls);

    expect(answers.map((a) => a.data.ok)).toEqual(["/x", "/y", "/z"]);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(store.get()).toEqual({ accessToken: "a2", refreshToken: "r2" });
    expect(server.seen.filter((line) => line.endsWith("a2")).sort()).toEqual([
      "/x Bearer a2",
      "/y Bearer a2",
      "/z Bearer a2",
    ]);
  });

  it("uses a pair another tab already rotated instead of rotating again", async () => {
    const server = fakeServer();
    server.valid.access = "a2";
    const store = createMemoryTokenStore({
      accessToken: "a1",
      refreshToken: "r1",
    });
    const refresh = vi.fn<Refresher>();
    // The other tab holds the lock, rotates, and lets this tab in afterwards.
    const otherTabFirst: LockRunner = async (_name, task) => {
      store.set({ accessToken: "a2", refreshToken: "r2" });
      return task();
    };
    const http = createApiClient({
      store,
      adapter: server.adapter,
      refresh,
      lock: otherTabFirst,
    });
    const { data } = await http.get("/x");
    expect(data).toEqual({ ok: "/x" });
    expect(refresh).not.toHaveBeenCalled();
  });

  it("signs out cleanly when the refresh is refused, without replaying", async () => {
    const server = fakeServer();
    server.valid.access = "never";
    const store = createMemoryTokenStore({
      accessToken: "a1",
      refreshToken: "r1",
    });
    const onSignedOut = vi.fn();
    const refresh = vi.fn<Refresher>(async () => {
      throw new RefreshRefused("token_reused");
    });
    const http = createApiClient({
      store,
      adapter: server.adapter,
      refresh,
      lock: noLock,
      onSignedOut,
    });

    const results = await Promise.allSettled([http.get("/x"), http.get("/y")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect((results[0] as PromiseRejectedResult).reason.response.status).toBe(
      401,
    );
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(onSignedOut).toHaveBeenCalledTimes(1);
    expect(store.get()).toBeNull();
    expect(server.seen).toEqual(["/x Bearer a1", "/y Bearer a1"]);
  });

  it("keeps the session when the refresh fails for another reason", async () => {
    const server = fakeServer();
    server.valid.access = "never";
    const session: Session = { accessToken: "a1", refreshToken: "r1" };
    const store = createMemoryTokenStore(session);
    const onSignedOut = vi.fn();
    const refresh = vi.fn<Refresher>(async () => {
      throw new Error("network down");
    });
    const http = createApiClient({
      store,
      adapter: server.adapter,
      refresh,
      lock: noLock,
      onSignedOut,
    });
    await expect(http.get("/x")).rejects.toThrow("network down");
    expect(store.get()).toEqual(session);
    expect(onSignedOut).not.toHaveBeenCalled();
  });

  it("replays a request only once, even when the new token is refused too", async () => {
    const server = fakeServer();
    server.valid.access = "never";
    const store = createMemoryTokenStore({
      accessToken: "a1",
      refreshToken: "r1",
    });
    const refresh = vi.fn<Refresher>(async () => ({
      accessToken: "a2",
      refreshToken: "r2",
    }));
    const http = createApiClient({
      store,
      adapter: server.adapter,
      refresh,
      lock: noLock,
    });
    await expect(http.get("/x")).rejects.toMatchObject({
      response: { status: 401 },
    });
    expect(server.seen).toEqual(["/x Bearer a1", "/x Bearer a2"]);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it("does not refresh for a request sent without a token", async () => {
    const server = fakeServer();
    const store = createMemoryTokenStore(null);
    const refresh = vi.fn<Refresher>();
    const http = createApiClient({
      store,
      adapter: server.adapter,
      refresh,
      lock: noLock,
    });
    await expect(http.get("/x")).rejects.toMatchObject({
      response: { status: 401 },
    });
    expect(refresh).not.toHaveBeenCalled();
  });
});
