import { useQuery } from "@tanstack/react-query";
import { Link, NavLink, Outlet, useNavigate } from "react-router";
import { api } from "../api/api";
import { useAuth } from "../auth/AuthContext";

const navClass = ({ isActive }: { isActive: boolean }) =>
  `rounded-md px-2 py-1 text-sm font-medium ${isActive ? "bg-indigo-50 text-indigo-700" : "text-slate-700 hover:text-indigo-700"}`;

export function Layout() {
  const { signedIn, me, signOut } = useAuth();
  const navigate = useNavigate();
  const cart = useQuery({
    queryKey: ["cart"],
    queryFn: api.cart,
    enabled: signedIn,
  });
  const count = cart.data?.line_count ?? 0;

  return (
    <div className="flex min-h-screen flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:p-2"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <nav
          aria-label="Main"
          className="mx-auto flex max-w-6xl flex-wrap items-center gap-2 px-4 py-3"
        >
          <Link to="/" className="mr-auto text-lg font-bold text-indigo-700">
            Marketplace
          </Link>
          <NavLink to="/" end className={navClass}>
            Browse
          </NavLink>
          {signedIn ? (
            <>
              <NavLink to="/sell" className={navClass}>
                Sell
              </NavLink>
              <NavLink to="/orders" className={navClass}>
                Orders
              </NavLink>
              <NavLink to="/cart" className={navClass}>
                Cart{count > 0 ? ` (${count})` : ""}
              </NavLink>
              <NavLink
                to="/settings"
                className={navClass}
                aria-label="Settings"
              >
                {me?.display_name ?? "Settings"}
              </NavLink>
              <button
                type="button"
                className="rounded-md px-2 py-1 text-sm font-medium text-slate-700 hover:text-indigo-700"
                onClick={async () => {
                  await signOut().catch(() => undefined);
                  navigate("/");
                }}
              >
                Sign out
              </button>
            </>
          ) : (
            <>
              <NavLink to="/signin" className={navClass}>
                Sign in
              </NavLink>
              <NavLink to="/signup" className={navClass}>
                Sign up
              </NavLink>
            </>
          )}
        </nav>
      </header>
      <main
        id="main"
        tabIndex={-1}
        className="mx-auto w-full max-w-6xl flex-1 px-4 py-6 focus:outline-none"
      >
        <Outlet />
      </main>
      <footer className="border-t border-slate-200 py-4 text-center text-xs text-slate-500">
        Marketplace — independent sellers, one checkout.
      </footer>
    </div>
  );
}
