import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { Link, useNavigate } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type { Cart, SavedAddress } from "../api/types";
import { AddressForm } from "../components/AddressForm";
import {
  Button,
  PageHeading,
  ProblemNotice,
  QueryGate,
  TotalRow,
} from "../components/ui";
import { addressLines } from "../lib/addresses";
import { checkoutLineMessage } from "../lib/cart";
import { formatMoney } from "../lib/format";
import { newIdempotencyKey } from "../lib/ids";
import { useTitle } from "../lib/useTitle";

export function CheckoutPage() {
  useTitle("Checkout");
  const cart = useQuery({ queryKey: ["cart"], queryFn: api.cart });
  const addresses = useQuery({
    queryKey: ["addresses"],
    queryFn: api.addresses,
  });
  return (
    <QueryGate query={cart}>
      {(data) => (
        <QueryGate query={addresses}>
          {(book) => <CheckoutForm cart={data} addresses={book} />}
        </QueryGate>
      )}
    </QueryGate>
  );
}

function CheckoutForm({
  cart,
  addresses,
}: {
  cart: Cart;
  addresses: SavedAddress[];
}) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  // The default address first (the API lists it first); none saved: the form to add one.
  const [selected, setSelected] = useState<number | null>(
    addresses[0]?.id ?? null,
  );
  const [addingChosen, setAdding] = useState(false);
  const adding = addingChosen || addresses.length === 0;
  // One key per address for this checkout: a double click or a retry after a lost answer makes
  // one order, and choosing another address is another request (the API refuses a key reused
  // with another body).
  const keys = useRef(new Map<number, string>());
  const keyFor = (addressId: number) => {
    if (!keys.current.has(addressId))
      keys.current.set(addressId, newIdempotencyKey());
    return keys.current.get(addressId)!;
  };
  const place = useMutation({
    mutationFn: (addressId: number) =>
      api.placeOrder({ address_id: addressId }, keyFor(addressId)),
    onError: () => queryClient.invalidateQueries({ queryKey: ["cart"] }),
    onSuccess: (order) => {
      queryClient.invalidateQueries({ queryKey: ["cart"] });
      queryClient.setQueryData(["order", order.id], order);
      navigate(`/orders/${order.id}/pay`, { replace: true });
    },
  });
  const problem = place.error ? toProblem(place.error) : null;

  if (cart.lines.length === 0 && !place.isSuccess) {
    return (
      <div>
        <PageHeading>Checkout</PageHeading>
        <p>
          Your cart is empty.{" "}
          <Link className="text-indigo-700 underline" to="/">
            Browse the listings
          </Link>
          .
        </p>
      </div>
    );
  }

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    if (selected !== null && !adding && !place.isPending)
      place.mutate(selected);
  };

  return (
    <div className="grid gap-6 lg:grid-cols-[1fr_20rem]">
      <section>
        <PageHeading>Checkout</PageHeading>
        <div className="space-y-4 rounded-lg bg-white p-6 shadow-sm">
          <h2 id="address-heading" className="text-lg font-semibold">
            Shipping address
          </h2>
          {addresses.length > 0 && (
            <fieldset aria-labelledby="address-heading" className="space-y-2">
              {addresses.map((address) => (
                <label
                  key={address.id}
                  className={`flex gap-3 rounded-md border p-3 text-sm ${selected === address.id && !adding ? "border-indigo-500 bg-indigo-50" : "border-slate-200"}`}
                >
                  <input
                    type="radio"
                    name="address"
                    className="mt-1"
                    checked={selected === address.id && !adding}
                    onChange={() => {
                      setSelected(address.id);
                      setAdding(false);
                    }}
                  />
                  <span>
                    {addressLines(address).join(", ")}{" "}
                    {address.is_default && (
                      <span className="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs font-semibold">
                        Default
                      </span>
                    )}
                  </span>
                </label>
              ))}
              <label
                className={`flex gap-3 rounded-md border p-3 text-sm ${adding ? "border-indigo-500 bg-indigo-50" : "border-slate-200"}`}
              >
                <input
                  type="radio"
                  name="address"
                  className="mt-1"
                  checked={adding}
                  onChange={() => setAdding(true)}
                />
                <span>A new address</span>
              </label>
            </fieldset>
          )}
          {adding && (
            <AddressForm
              title="New shipping address"
              submitLabel="Save and use this address"
              onSave={(fields) => api.addAddress(fields)}
              onSaved={(saved) => {
                queryClient.setQueryData<SavedAddress[]>(
                  ["addresses"],
                  (book) => [...(book ?? []), saved],
                );
                queryClient.invalidateQueries({ queryKey: ["addresses"] });
                setSelected(saved.id);
                setAdding(false);
              }}
              onCancel={
                addresses.length > 0 ? () => setAdding(false) : undefined
              }
            />
          )}
          <form noValidate onSubmit={submit} aria-label="Place order">
            {problem && (
              <ProblemNotice
                problem={problem}
                onRetry={() => selected !== null && place.mutate(selected)}
              />
            )}
            <Button
              type="submit"
              disabled={
                place.isPending ||
                !cart.purchasable ||
                selected === null ||
                adding
              }
              className="mt-2 w-full"
            >
              {place.isPending ? "Placing order…" : "Place order"}
            </Button>
            {adding && (
              <p className="mt-2 text-sm text-slate-600">
                Save the new address to place the order with it.
              </p>
            )}
            {!cart.purchasable && (
              <p className="mt-2 text-sm text-red-700">
                Some lines cannot be bought as they are.{" "}
                <Link className="underline" to="/cart">
                  Review your cart
                </Link>
                .
              </p>
            )}
          </form>
        </div>
      </section>
      <aside
        aria-label="Order summary"
        className="h-fit rounded-lg bg-white p-4 shadow-sm"
      >
        <h2 className="text-lg font-semibold">Review</h2>
        <ul className="mt-2 space-y-1 text-sm">
          {cart.lines.map((line) => (
            <li key={line.listing_id}>
              <div className="flex justify-between gap-2">
                <span>
                  {line.quantity} × {line.title}
                </span>
                <span>{formatMoney(line.line_total_cents, line.currency)}</span>
              </div>
              {problem?.fields[`cart.${line.listing_id}`] && (
                <p className="font-medium text-red-700">
                  {checkoutLineMessage(
                    problem.fields[`cart.${line.listing_id}`]!,
                  )}
                </p>
              )}
            </li>
          ))}
        </ul>
        <TotalRow cents={cart.total_cents} currency={cart.currency} />
      </aside>
    </div>
  );
}
