import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes, type InitialEntry } from "react-router";
import { AuthProvider } from "../auth/AuthContext";

// Renders `element` at `path` inside the app's providers, with queries that never retry;
// `route` is the location visited (with its query or navigation state), `path` by default.
export function renderPage(
  element: ReactNode,
  { path = "/", route }: { path?: string; route?: InitialEntry } = {},
) {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  return render(
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <MemoryRouter initialEntries={[route ?? path]}>
          <Routes>
            <Route path={path} element={element} />
            <Route path="*" element={<p>elsewhere</p>} />
          </Routes>
        </MemoryRouter>
      </AuthProvider>
    </QueryClientProvider>,
  );
}
