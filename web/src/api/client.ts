import axios, {
  AxiosError,
  type AxiosInstance,
  type AxiosRequestConfig,
  type InternalAxiosRequestConfig,
} from "axios";
import {
  createIndexedDbJournal,
  type RotationJournal,
  type Session,
  type TokenStore,
} from "./tokens";

// Runs `task` while holding the named lock across every tab of the origin, so that only one tab
// rotates the refresh token at a time (a refresh token is single use: a second rotation with the
// same token would revoke the whole session).
export type LockRunner = <T>(
  name: string,
  task: () => Promise<T>,
) => Promise<T>;

export const webLocks: LockRunner = (name, task) =>
  typeof navigator !== "undefined" && navigator.locks
    ? (navigator.locks.request(name, task) as Promise<
        Awaited<ReturnType<typeof task>>
      >)
    : task();

// Exchanges a refresh token for a new pair. Rejects with RefreshRefused when the server refuses
// the token (the session is over); any other rejection is a failure to reach it.
export type Refresher = (refreshToken: string) => Promise<Session>;

export class RefreshRefused extends Error {}

export interface ApiClientOptions {
  store: TokenStore;
  baseURL?: string;
  refresh?: Refresher;
  lock?: LockRunner;
  // Where rotations are recorded for the other tabs (IndexedDB by default).
  journal?: RotationJournal;
  // After a refused refresh, once the pair is cleared.
  onSignedOut?: () => void;
  adapter?: AxiosRequestConfig["adapter"];
}

declare module "axios" {
  interface AxiosRequestConfig {
    // Replayed once after a refresh; never refreshed again.
    _replayed?: boolean;
  }
}

export const kRefreshPath = "/api/v1/auth/refresh";

export function httpRefresher(
  baseURL = "",
  adapter?: AxiosRequestConfig["adapter"],
): Refresher {
  return async (refreshToken) => {
    try {
      const { data } = await axios.post<{
        tokens: { access_token: string; refresh_token: string };
      }>(
        `${baseURL}${kRefreshPath}`,
        { refresh_token: refreshToken },
        { adapter },
      );
      return {
        accessToken: data.tokens.access_token,
        refreshToken: data.tokens.refresh_token,
      };
    } catch (error) {
      const status = (error as AxiosError).response?.status;
      if (status === 401 || status === 422)
        throw new RefreshRefused("refresh token refused");
      throw error;
    }
  };
}

export function createApiClient(options: ApiClientOptions): AxiosInstance {
  const { store, baseURL = "", lock = webLocks, onSignedOut } = options;
  const journal = options.journal ?? createIndexedDbJournal();
  const refresh = options.refresh ?? httpRefresher(baseURL, options.adapter);
  const http = axios.create({ baseURL, adapter: options.adapter });

  // One refresh per tab at a time: every 401 that arrives while it runs waits for it.
  let inflight: Promise<Session | null> | null = null;

  // The pair that replaces `staleAccess`, or null when the session is over.
  const renew = (staleAccess: string): Promise<Session | null> => {
    inflight ??= lock("marketplace.refresh", async () => {
      const current = store.get();
      if (!current) return null;
      // Another tab, or an earlier refresh here, already rotated: use its pair.
      if (current.accessToken !== staleAccess) return current;
      // Rotated by another tab whose new pair has not reached this tab's localStorage yet.
      const last = await journal.last();
      if (last && last.from === current.refreshToken) {
        store.set(last.to);
        return last.to;
      }
      try {
        const next = await refresh(current.refreshToken);
        // Visible to every tab before the lock is released.
        await journal.record({ from: current.refreshToken, to: next });
        store.set(next);
        return next;
      } catch (error) {
        if (!(error instanceof RefreshRefused)) throw error;
        store.set(null);
        onSignedOut?.();
        return null;
      }
    }).finally(() => {
      inflight = null;
    });
    return inflight;
  };

  http.interceptors.request.use((config: InternalAxiosRequestConfig) => {
    const session = store.get();
    if (session && !config.headers.has("Authorization")) {
      config.headers.set("Authorization", `Bearer ${session.accessToken}`);
    }
    return config;
  });

  http.interceptors.response.use(undefined, async (error: unknown) => {
    if (
      !(error instanceof AxiosError) ||
      error.response?.status !== 401 ||
      !error.config
    ) {
      throw error;
    }
    const config = error.config;
    const sent = String(config.headers.get("Authorization") ?? "");
    if (config._replayed || !sent.startsWith("Bearer ")) throw error;
    const session = await renew(sent.slice("Bearer ".length));
    if (!session) throw error;
    config._replayed = true;
    config.headers.set("Authorization", `Bearer ${session.accessToken}`);
    return http.request(config);
  });

  return http;
}
