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

// A stored value as a session, or null when it is not one.
function asSession(value: unknown): Session | null {
  const pair = (value ?? {}) as Partial<Session>;
  if (
    typeof pair.accessToken === "string" &&
    typeof pair.refreshToken === "string"
  ) {
    return { accessToken: pair.accessToken, refreshToken: pair.refreshToken };
  }
  return null;
}

function parse(text: string | null): Session | null {
  if (!text) return null;
  try {
    return asSession(JSON.parse(text));
  } catch {
    return null; // A damaged entry is no session.
  }
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

// The last rotation of the refresh token made by any tab: which refresh token it spent and the
// pair it got. The tabs rotate one at a time (under a Web Lock), but localStorage reaches the
// other tabs asynchronously, so the next tab to take the lock may still read the spent token
// there and spend it again, which the server treats as theft and ends the session. The journal
// lives in IndexedDB, whose writes are visible to every tab once committed: a tab about to
// rotate first checks whether its token was rotated already.
export interface Rotation {
  from: string;
  to: Session;
}

export interface RotationJournal {
  last(): Promise<Rotation | null>;
  // Resolves once the rotation is visible to every tab.
  record(rotation: Rotation): Promise<void>;
}

export const noJournal: RotationJournal = {
  last: async () => null,
  record: async () => {},
};

export function createMemoryJournal(): RotationJournal {
  let last: Rotation | null = null;
  return {
    last: async () => last,
    record: async (rotation) => {
      last = rotation;
    },
  };
}

const kDatabase = "marketplace";
const kObjectStore = "auth";
const kRotationKey = "last-rotation";

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// The journal in IndexedDB; without IndexedDB (or if it fails), no journal.
export function createIndexedDbJournal(
  factory: IDBFactory | undefined = globalThis.indexedDB,
): RotationJournal {
  if (!factory) return noJournal;
  let database: Promise<IDBDatabase> | null = null;
  const open = () => {
    database ??= new Promise((resolve, reject) => {
      const req = factory.open(kDatabase, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(kObjectStore);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    return database;
  };
  return {
    async last() {
      try {
        const db = await open();
        const value = (await request(
          db
            .transaction(kObjectStore)
            .objectStore(kObjectStore)
            .get(kRotationKey),
        )) as Partial<Rotation> | undefined;
        const to = asSession(value?.to);
        return typeof value?.from === "string" && to
          ? { from: value.from, to }
          : null;
      } catch {
        return null;
      }
    },
    async record(rotation) {
      try {
        const db = await open();
        const tx = db.transaction(kObjectStore, "readwrite");
        tx.objectStore(kObjectStore).put(rotation, kRotationKey);
        await new Promise<void>((resolve, reject) => {
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
          tx.onabort = () => reject(tx.error);
        });
      } catch {
        // Without the journal a racing tab may spend the token again; nothing else breaks.
      }
    },
  };
}
