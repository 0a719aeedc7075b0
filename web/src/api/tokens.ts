// Where the session's token pair lives: localStorage, shared by every tab of the origin, so a
// pair rotated by one tab is the pair of all of them (the `storage` event tells the others).

export interface Session {
  accessToken: string;
  refreshToken: string;
}

export interface TokenStore {
  get(): Session | null;
  set(session: Session | null): void;
  // Called with the new value whenever it changes, in this tab or in another one.
  subscribe(listener: (session: Session | null) => void): () => void;
}

const kKey = "marketplace.session";

function parse(text: string | null): Session | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<Session>;
    if (
      typeof value.accessToken === "string" &&
      typeof value.refreshToken === "string"
    ) {
      return {
        accessToken: value.accessToken,
        refreshToken: value.refreshToken,
      };
    }
  } catch {
    // A damaged entry is no session.
  }
  return null;
}

export function createLocalTokenStore(
  storage: Storage = window.localStorage,
): TokenStore {
  const listeners = new Set<(session: Session | null) => void>();
  const notify = (session: Session | null) =>
    listeners.forEach((listener) => listener(session));
  window.addEventListener("storage", (event) => {
    if (
      event.storageArea === storage &&
      (event.key === kKey || event.key === null)
    ) {
      notify(parse(event.newValue));
    }
  });
  return {
    get: () => parse(storage.getItem(kKey)),
    set(session) {
      if (session) storage.setItem(kKey, JSON.stringify(session));
      else storage.removeItem(kKey);
      notify(session);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function createMemoryTokenStore(
  initial: Session | null = null,
): TokenStore {
  let current = initial;
  const listeners = new Set<(session: Session | null) => void>();
  return {
    get: () => current,
    set(session) {
      current = session;
      listeners.forEach((listener) => listener(session));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
