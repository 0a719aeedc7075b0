import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type { Cart, ShippingAddressInput } from "../api/types";
import {
  Button,
  Field,
  PageHeading,
  ProblemNotice,
  QueryGate,
  TotalRow,
} from "../components/ui";
import { checkoutLineMessage } from "../lib/cart";
import { formatMoney } from "../lib/format";
import { newIdempotencyKey } from "../lib/ids";
import { useTitle } from "../lib/useTitle";
import {
  validateAddress,
  type AddressForm,
  type FieldErrors,
} from "../lib/validation";

const kEmpty: AddressForm = {
  recipient_name: "",
  line1: "",
  line2: "",
  city: "",
  region: "",
  postal_code: "",
  country: "",
  phone: "",
};

function toInput(form: AddressForm): ShippingAddressInput {
  const address: ShippingAddressInput = {
    recipient_name: form.recipient_name.trim(),
    line1: form.line1.trim(),
    city: form.city.trim(),
    country: form.country.trim().toUpperCase(),
  };
  if (form.line2.trim()) address.line2 = form.line2.trim();
  if (form.region.trim()) address.region = form.region.trim();
  if (form.postal_code.trim()) address.postal_code = form.postal_code.trim();
  const phone = form.phone.replace(/[\s()-]/g, "");
  if (phone) address.phone = phone;
  return address;
}

export function CheckoutPage() {
  useTitle("Checkout");
  const cart = useQuery({ queryKey: ["cart"], queryFn: api.cart });
  return (
    <QueryGate query={cart}>{(data) => <CheckoutForm cart={data} />}</QueryGate>
  );
}

function CheckoutForm({ cart }: { cart: Cart }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [form, setForm] = useState<AddressForm>(kEmpty);
  const [errors, setErrors] = useState<FieldErrors>({});
  // One key for this checkout: a double click or a retry after a lost answer makes one order.
  const [idempotencyKey] = useState(newIdempotencyKey);
  const place = useMutation({
    mutationFn: (address: ShippingAddressInput) =>
      api.placeOrder(address, idempotencyKey),
    onError: () => queryClient.invalidateQueries({ queryKey: ["cart"] }),
    onSuccess: (order) => {
      queryClient.invalidateQueries({ queryKey: ["cart"] });
      queryClient.setQueryData(["order", order.id], order);
      navigate(`/orders/${order.id}/pay`, { replace: true });
    },
  });
  const problem = place.error ? toProblem(place.error) : null;
  const fieldError = (name: keyof AddressForm) =>
    errors[`shipping_address.${name}`] ??
    problem?.fields[`shipping_address.${name}`];
  const set =
    (name: keyof AddressForm) => (event: React.ChangeEvent<HTMLInputElement>) =>
      setForm({ ...form, [name]: event.target.value });

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
    const found = validateAddress(form);
    setErrors(found);
    if (Object.keys(found).length === 0 && !place.isPending)
      place.mutate(toInput(form));
  };

  return (
    <div className="grid gap-6 lg:grid-cols-[1fr_20rem]">
      <section>
        <PageHeading>Checkout</PageHeading>
        <form
          noValidate
          onSubmit={submit}
          className="space-y-4 rounded-lg bg-white p-6 shadow-sm"
          aria-labelledby="address-heading"
        >
          <h2 id="address-heading" className="text-lg font-semibold">
            Shipping address
          </h2>
          {problem &&
            !Object.keys(problem.fields).some((f) =>
              f.startsWith("shipping_address."),
            ) && (
              <ProblemNotice
                problem={problem}
                onRetry={() => place.mutate(toInput(form))}
              />
            )}
          <Field
            label="Full name"
            autoComplete="name"
            value={form.recipient_name}
            onChange={set("recipient_name")}
            error={fieldError("recipient_name")}
          />
          <Field
            label="Address line 1"
            autoComplete="address-line1"
            value={form.line1}
            onChange={set("line1")}
            error={fieldError("line1")}
          />
          <Field
            label="Address line 2 (optional)"
            autoComplete="address-line2"
            value={form.line2}
            onChange={set("line2")}
            error={fieldError("line2")}
          />
          <div className="grid gap-4 sm:grid-cols-2">
            <Field
              label="City"
              autoComplete="address-level2"
              value={form.city}
              onChange={set("city")}
              error={fieldError("city")}
            />
            <Field
              label="Region (optional)"
              autoComplete="address-level1"
              value={form.region}
              onChange={set("region")}
              error={fieldError("region")}
            />
            <Field
              label="Postal code (optional)"
              autoComplete="postal-code"
              value={form.postal_code}
              onChange={set("postal_code")}
              error={fieldError("postal_code")}
            />
            <Field
              label="Country code"
              autoComplete="country"
              maxLength={2}
              placeholder="US"
              value={form.country}
              onChange={set("country")}
              error={fieldError("country")}
            />
          </div>
          <Field
            label="Phone (optional)"
            type="tel"
            autoComplete="tel"
            placeholder="+14155550123"
            value={form.phone}
            onChange={set("phone")}
            error={fieldError("phone")}
          />
          <Button
            type="submit"
            disabled={place.isPending || !cart.purchasable}
            className="w-full"
          >
            {place.isPending ? "Placing order…" : "Place order"}
          </Button>
          {!cart.purchasable && (
            <p className="text-sm text-red-700">
              Some lines cannot be bought as they are.{" "}
              <Link className="underline" to="/cart">
                Review your cart
              </Link>
              .
            </p>
          )}
        </form>
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
