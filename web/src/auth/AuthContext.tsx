import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type ReactNode,
} from "react";
import { api, sessionOf, tokenStore } from "../api/api";
import type { AuthResponse, Me } from "../api/types";

interface AuthState {
  signedIn: boolean;
  me: Me | undefined;
  signIn(auth: AuthResponse): void;
  signOut(options?: { everywhere?: boolean }): Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [signedIn, setSignedIn] = useState(() => tokenStore.get() !== null);

  // Follows the pair in this tab and in the others (a refused refresh, a sign-out elsewhere).
  useEffect(
    () =>
      tokenStore.subscribe((session) => {
        setSignedIn(session !== null);
        if (!session) queryClient.removeQueries({ queryKey: ["me"] });
        if (!session) queryClient.removeQueries({ queryKey: ["cart"] });
      }),
    [queryClient],
  );

  const me = useQuery({
    queryKey: ["me"],
    queryFn: api.me,
    enabled: signedIn,
    staleTime: 60_000,
  });

  const signIn = useCallback(
    (auth: AuthResponse) => {
      queryClient.setQueryData(["me"], auth.user);
      tokenStore.set(sessionOf(auth));
    },
    [queryClient],
  );

  // This device: forgotten here even when the server cannot be told (the refresh token dies
  // with its session's expiry anyway). Everywhere: only once the server has ended every
  // session, so that a failure is not mistaken for success.
  const signOut = useCallback(
    async ({ everywhere = false } = {}) => {
      const forget = () => {
        tokenStore.set(null);
        queryClient.clear();
      };
      if (everywhere) {
        await api.logoutAll();
        forget();
        return;
      }
      const session = tokenStore.get();
      try {
        if (session) await api.logout(session.refreshToken);
      } finally {
        forget();
      }
    },
    [queryClient],
  );

  const value = useMemo(
    () => ({ signedIn, me: signedIn ? me.data : undefined, signIn, signOut }),
    [signedIn, me.data, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error("useAuth outside AuthProvider");
  return state;
}
