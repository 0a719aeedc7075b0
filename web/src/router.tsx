import { createBrowserRouter } from "react-router";
import { Layout } from "./components/Layout";
import { RequireAuth } from "./components/RequireAuth";
import { HomePage } from "./pages/HomePage";
import { NotFoundPage } from "./pages/NotFoundPage";

// The home page ships in the main bundle; every other page is a chunk of its own, loaded when
// first visited, so that the first visit downloads as little as possible.
function page(load: () => Promise<object>, name: string, guarded = false) {
  return async () => {
    const Page = ((await load()) as Record<string, React.ComponentType>)[name]!;
    const Guarded = () => (
      <RequireAuth>
        <Page />
      </RequireAuth>
    );
    return { Component: guarded ? Guarded : Page };
  };
}

export const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: "/", element: <HomePage /> },
      {
        path: "/listings/:id",
        lazy: page(() => import("./pages/ListingPage"), "ListingPage"),
      },
      {
        path: "/signin",
        lazy: page(() => import("./pages/SignInPage"), "SignInPage"),
      },
      {
        path: "/signup",
        lazy: page(() => import("./pages/SignUpPage"), "SignUpPage"),
      },
      {
        path: "/cart",
        lazy: page(() => import("./pages/CartPage"), "CartPage", true),
      },
      {
        path: "/checkout",
        lazy: page(() => import("./pages/CheckoutPage"), "CheckoutPage", true),
      },
      {
        path: "/orders",
        lazy: page(() => import("./pages/OrdersPage"), "OrdersPage", true),
      },
      {
        path: "/orders/:id",
        lazy: page(() => import("./pages/OrderPage"), "OrderPage", true),
      },
      {
        path: "/orders/:id/pay",
        lazy: page(() => import("./pages/PayPage"), "PayPage", true),
      },
      {
        path: "/sell",
        lazy: page(() => import("./pages/SellPage"), "SellPage", true),
      },
      {
        path: "/sell/new",
        lazy: page(
          () => import("./pages/ListingEditorPage"),
          "ListingEditorPage",
          true,
        ),
      },
      {
        path: "/sell/listings/:id",
        lazy: page(
          () => import("./pages/ListingEditorPage"),
          "ListingEditorPage",
          true,
        ),
      },
      {
        path: "/users/:username",
        lazy: page(() => import("./pages/UserPage"), "UserPage"),
      },
      {
        path: "/settings",
        lazy: page(() => import("./pages/SettingsPage"), "SettingsPage", true),
      },
      {
        path: "/settings/addresses",
        lazy: page(
          () => import("./pages/AddressBookPage"),
          "AddressBookPage",
          true,
        ),
      },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
]);
