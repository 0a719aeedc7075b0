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
import {
  createMemoryJournal,
  createMemoryTokenStore,
  type RotationJournal,
  type Session,
  type TokenStore,
} from "./tokens";

const kSession: Session = { accessToken: "a1", refreshToken: "r1" };
const noLock: LockRunner = (_name, task) => task();

// A client over a server that accepts only the access token `accepted`; `seen` records each
// request as "URL Authorization".
function setup({
  accepted,
  refresh = vi.fn<Refresher>(),
  lock = noLock,
  session = kSession,
  store = createMemoryTokenStore(session),
  journal = createMemoryJournal(),
}: {
  accepted: string;
  refresh?: Refresher;
  lock?: LockRunner;
  session?: Session | null;
  store?: TokenStore;
  journal?: RotationJournal;
}) {
  const seen: string[] = [];
  const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig) => {
    const auth = String(
      AxiosHeaders.from(config.headers).get("Authorization") ?? "",
    );
    seen.push(`${config.url} ${auth}`);
    const ok = auth === `Bearer ${accepted}`;
    const response = {
      data: ok ? { ok: config.url } : { error: { code: "invalid_token" } },
      status: ok ? 200 : 401,
      statusText: "",
      headers: {},
      config,
    };
    if (ok) return response;
    throw new AxiosError("401", "ERR_BAD_REQUEST", config, null, response);
  };
  const onSignedOut = vi.fn();
  const http = createApiClient({
    store,
    adapter,
    refresh,
    lock,
    journal,
    onSignedOut,
  });
  return { http, store, seen, onSignedOut, journal };
}

describe("the API client", () => {
  it("attaches the access token", async () => {
    const { http, seen } = setup({ accepted: "a1" });
    const { data } = await http.get("/api/v1/me");
    expect(data).toEqual({ ok: "/api/v1/me" });
    expect(seen).toEqual(["/api/v1/me Bearer a1"]);
  });

  it("refreshes once for concurrent 401s, stores the rotated pair and replays every request", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const refresh = vi.fn<Refresher>(async (token) => {
      expect(token).toBe("r1");
      await gate;
      return { accessToken: "a2", refreshToken: "r2" };
    });
    const { http, store, seen } = setup({ accepted: "a2", refresh });

    const calls = ["/x", "/y", "/z"].map((url) => http.get(url));
    await vi.waitFor(() => expect(refresh).toHaveBeenCalledTimes(1));
    release();
    const answers = await Promise.all(calls);

    expect(answers.map((a) => a.data.ok)).toEqual(["/x", "/y", "/z"]);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(store.get()).toEqual({ accessToken: "a2", refreshToken: "r2" });
    expect(seen.filter((line) => line.endsWith("a2")).sort()).toEqual([
      "/x Bearer a2",
      "/y Bearer a2",
      "/z Bearer a2",
    ]);
  });

  it("uses a pair another tab already rotated instead of rotating again", async () => {
    const store = createMemoryTokenStore(kSession);
    const refresh = vi.fn<Refresher>();
    // The other tab holds the lock, rotates, and lets this tab in afterwards.
    const otherTabFirst: LockRunner = async (_name, task) => {
      store.set({ accessToken: "a2", refreshToken: "r2" });
      return task();
    };
    const { http } = setup({
      accepted: "a2",
      refresh,
      lock: otherTabFirst,
      store,
    });
    const { data } = await http.get("/x");
    expect(data).toEqual({ ok: "/x" });
    expect(refresh).not.toHaveBeenCalled();
  });

  it("records each rotation in the journal before it lets other tabs in", async () => {
    const refresh = vi.fn<Refresher>(async () => ({
      accessToken: "a2",
      refreshToken: "r2",
    }));
    let recordedInsideLock: unknown = "not yet";
    const { http, journal } = setup({
      accepted: "a2",
      refresh,
      lock: async (_name, task) => {
        const result = await task();
        recordedInsideLock = await journal.last();
        return result;
      },
    });
    await http.get("/x");
    expect(recordedInsideLock).toEqual({
      from: "r1",
      to: { accessToken: "a2", refreshToken: "r2" },
    });
  });

  // Another tab rotated under the lock, but its new pair has not reached this tab's storage yet
  // (localStorage travels between tabs asynchronously): spending r1 again would end the session.
  it("adopts the rotation another tab recorded when this tab still holds the spent token", async () => {
    const journal = createMemoryJournal();
    await journal.record({
      from: "r1",
      to: { accessToken: "a2", refreshToken: "r2" },
    });
    const refresh = vi.fn<Refresher>();
    const { http, store } = setup({ accepted: "a2", refresh, journal });
    const { data } = await http.get("/x");
    expect(data).toEqual({ ok: "/x" });
    expect(refresh).not.toHaveBeenCalled();
    expect(store.get()).toEqual({ accessToken: "a2", refreshToken: "r2" });
  });

  it("ignores a recorded rotation of another token", async () => {
    const journal = createMemoryJournal();
    await journal.record({
      from: "r0",
      to: { accessToken: "a0", refreshToken: "r0b" },
    });
    const refresh = vi.fn<Refresher>(async (token) => {
      expect(token).toBe("r1");
      return { accessToken: "a2", refreshToken: "r2" };
    });
    const { http, store } = setup({ accepted: "a2", refresh, journal });
    await http.get("/x");
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(store.get()).toEqual({ accessToken: "a2", refreshToken: "r2" });
  });

  it("signs out cleanly when the refresh is refused, without replaying", async () => {
    const refresh = vi.fn<Refresher>(async () => {
      throw new RefreshRefused("token_reused");
    });
    const { http, store, seen, onSignedOut } = setup({
      accepted: "never",
      refresh,
    });

    const results = await Promise.allSettled([http.get("/x"), http.get("/y")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect((results[0] as PromiseRejectedResult).reason.response.status).toBe(
      401,
    );
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(onSignedOut).toHaveBeenCalledTimes(1);
    expect(store.get()).toBeNull();
    expect(seen).toEqual(["/x Bearer a1", "/y Bearer a1"]);
  });

  it("keeps the session when the refresh fails for another reason", async () => {
    const refresh = vi.fn<Refresher>(async () => {
      throw new Error("network down");
    });
    const { http, store, onSignedOut } = setup({ accepted: "never", refresh });
    await expect(http.get("/x")).rejects.toThrow("network down");
    expect(store.get()).toEqual(kSession);
    expect(onSignedOut).not.toHaveBeenCalled();
  });

  it("replays a request only once, even when the new token is refused too", async () => {
    const refresh = vi.fn<Refresher>(async () => ({
      accessToken: "a2",
      refreshToken: "r2",
    }));
    const { http, seen } = setup({ accepted: "never", refresh });
    await expect(http.get("/x")).rejects.toMatchObject({
      response: { status: 401 },
    });
    expect(seen).toEqual(["/x Bearer a1", "/x Bearer a2"]);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it("does not refresh for a request sent without a token", async () => {
    const refresh = vi.fn<Refresher>();
    const { http } = setup({ accepted: "a1", refresh, session: null });
    await expect(http.get("/x")).rejects.toMatchObject({
      response: { status: 401 },
    });
    expect(refresh).not.toHaveBeenCalled();
  });
});
