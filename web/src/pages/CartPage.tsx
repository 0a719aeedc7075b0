import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type { Cart, CartLine } from "../api/types";
import { ListingImage } from "../components/ListingImage";
import {
  Button,
  PageHeading,
  ProblemNotice,
  QueryGate,
} from "../components/ui";
import { cartLineWarnings, maxQuantity } from "../lib/cart";
import { formatMoney } from "../lib/format";
import { useTitle } from "../lib/useTitle";

export function CartPage() {
  useTitle("Cart");
  const cart = useQuery({
    queryKey: ["cart"],
    queryFn: api.cart,
    refetchOnMount: "always",
  });

  return (
    <QueryGate query={cart} skeleton="h-40 w-full">
      {(data) => <CartView cart={data} />}
    </QueryGate>
  );
}

function CartView({ cart }: { cart: Cart }) {
  if (cart.lines.length === 0) {
    return (
      <div>
        <PageHeading>Your cart</PageHeading>
        <p className="rounded-md border border-dashed border-slate-300 p-8 text-center">
          Your cart is empty.{" "}
          <Link className="text-indigo-700 underline" to="/">
            Find something you like
          </Link>
          .
        </p>
      </div>
    );
  }
  return (
    <div className="grid gap-6 lg:grid-cols-[1fr_18rem]">
      <section>
        <PageHeading>Your cart</PageHeading>
        <ul className="space-y-3">
          {cart.lines.map((line) => (
            <li key={line.listing_id}>
              <CartLineRow line={line} />
            </li>
          ))}
        </ul>
      </section>
      <aside
        aria-label="Summary"
        className="h-fit rounded-lg bg-white p-4 shadow-sm"
      >
        <h2 className="text-lg font-semibold">Summary</h2>
        <p className="mt-2 flex justify-between">
          <span>
            {cart.line_count} {cart.line_count === 1 ? "item" : "items"}
          </span>
          <span className="font-semibold" data-testid="cart-total">
            {formatMoney(cart.total_cents, cart.currency)}
          </span>
        </p>
        {cart.purchasable ? (
          <Link
            to="/checkout"
            className="mt-4 block rounded-md bg-indigo-600 px-4 py-2 text-center font-semibold text-white hover:bg-indigo-700"
          >
            Check out
          </Link>
        ) : (
          <p className="mt-4 text-sm text-red-700">
            Fix the lines marked above to check out.
          </p>
        )}
      </aside>
    </div>
  );
}

function CartLineRow({ line }: { line: CartLine }) {
  const queryClient = useQueryClient();
  const onSuccess = (cart: Cart) => queryClient.setQueryData(["cart"], cart);
  const update = useMutation({
    mutationFn: (quantity: number) =>
      api.setCartItem(line.listing_id, quantity),
    onSuccess,
  });
  const remove = useMutation({
    mutationFn: () => api.removeCartItem(line.listing_id),
    onSuccess,
  });
  const warnings = cartLineWarnings(line);
  const problem = update.error
    ? toProblem(update.error)
    : remove.error
      ? toProblem(remove.error)
      : null;
  const max = maxQuantity(line);
  const selectId = `qty-${line.listing_id}`;

  return (
    <article
      className="flex gap-3 rounded-lg bg-white p-3 shadow-sm"
      aria-label={line.title}
    >
      <ListingImage
        image={line.main_image}
        alt={line.title}
        sizes="96px"
        className="h-24 w-24 shrink-0 rounded-md"
      />
      <div className="min-w-0 flex-1">
        <Link
          to={`/listings/${line.listing_id}`}
          className="font-medium hover:text-indigo-700"
        >
          {line.title}
        </Link>
        <p className="text-sm text-slate-500">
          Sold by {line.seller.display_name}
        </p>
        <p className="text-sm">
          {formatMoney(line.unit_price_cents, line.currency)} each
        </p>
        {warnings.length > 0 && (
          <ul
            className="mt-1 space-y-1 text-sm text-amber-800"
            aria-label="Warnings"
          >
            {warnings.map((warning) => (
              <li key={warning}>⚠ {warning}</li>
            ))}
          </ul>
        )}
        <div className="mt-2 flex flex-wrap items-center gap-3">
          <label htmlFor={selectId} className="text-sm">
            Quantity
          </label>
          <select
            id={selectId}
            value={line.quantity}
            disabled={update.isPending}
            onChange={(e) => update.mutate(Number(e.target.value))}
            className="rounded-md border border-slate-300 bg-white px-2 py-1"
          >
            {Array.from({ length: max }, (_, i) => (
              <option key={i + 1} value={i + 1}>
                {i + 1}
              </option>
            ))}
          </select>
          <Button
            variant="secondary"
            onClick={() => remove.mutate()}
            disabled={remove.isPending}
          >
            Remove
          </Button>
        </div>
        {problem && (
          <div className="mt-2">
            <ProblemNotice problem={problem} />
          </div>
        )}
      </div>
      <p className="font-semibold">
        {formatMoney(line.line_total_cents, line.currency)}
      </p>
    </article>
  );
}
