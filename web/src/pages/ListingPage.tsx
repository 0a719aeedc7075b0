import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type { Listing } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ListingImage } from "../components/ListingImage";
import { Button, PageHeading, ProblemNotice, Skeleton } from "../components/ui";
import { categoryLabel, formatMoney, kConditionLabels } from "../lib/format";
import { useTitle } from "../lib/useTitle";

export function ListingPage() {
  const id = Number(useParams().id);
  const listing = useQuery({
    queryKey: ["listing", id],
    queryFn: () => api.listing(id),
    enabled: id > 0,
  });
  useTitle(listing.data?.title ?? "Listing");

  if (listing.isPending) {
    return (
      <div className="grid gap-6 md:grid-cols-2" aria-label="Loading">
        <Skeleton className="aspect-square w-full" />
        <div className="space-y-3">
          <Skeleton className="h-8 w-3/4" />
          <Skeleton className="h-6 w-1/4" />
        </div>
      </div>
    );
  }
  if (listing.error) {
    const problem = toProblem(listing.error);
    if (problem.status === 404) {
      return (
        <div>
          <PageHeading>Listing not found</PageHeading>
          <p>
            It may have been removed.{" "}
            <Link className="text-indigo-700 underline" to="/">
              Browse other listings
            </Link>
            .
          </p>
        </div>
      );
    }
    return (
      <ProblemNotice problem={problem} onRetry={() => listing.refetch()} />
    );
  }
  return <ListingView listing={listing.data} />;
}

function ListingView({ listing }: { listing: Listing }) {
  const [selected, setSelected] = useState(() =>
    Math.max(
      0,
      listing.images.findIndex((image) => image.is_main),
    ),
  );
  const main = listing.images[selected] ?? listing.images[0];
  const ordered = listing.images;
  return (
    <div className="grid gap-8 md:grid-cols-2">
      <section aria-label="Photos">
        <ListingImage
          image={main}
          alt={listing.title}
          sizes="(min-width: 768px) 50vw, 100vw"
          className="aspect-square w-full rounded-lg"
          eager
        />
        {ordered.length > 1 && (
          <ul className="mt-3 flex flex-wrap gap-2">
            {ordered.map((image, i) => (
              <li key={image.id}>
                <button
                  type="button"
                  aria-label={`Photo ${i + 1} of ${ordered.length}`}
                  aria-pressed={i === selected}
                  onClick={() => setSelected(i)}
                  className={`block rounded-md border-2 ${i === selected ? "border-indigo-600" : "border-transparent"}`}
                >
                  <img
                    src={image.urls.small}
                    alt=""
                    width={64}
                    height={64}
                    className="h-16 w-16 rounded object-cover"
                  />
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section>
        <PageHeading>{listing.title}</PageHeading>
        <p className="text-2xl font-semibold">
          {formatMoney(listing.price_cents, listing.currency)}
        </p>
        <p className="mt-1 text-sm text-slate-600">
          {kConditionLabels[listing.condition]} ·{" "}
          {categoryLabel(listing.category)}
        </p>
        <p
          className={`mt-2 text-sm font-medium ${listing.available > 0 ? "text-green-700" : "text-red-700"}`}
        >
          {listing.status !== "active"
            ? "Not for sale"
            : listing.available > 0
              ? `${listing.available} available`
              : "Sold out"}
        </p>
        <AddToCart listing={listing} />
        <div className="mt-6 rounded-lg bg-white p-4 shadow-sm">
          <h2 className="text-sm font-semibold text-slate-600">Seller</h2>
          <Link
            to={`/users/${listing.seller.username}`}
            className="font-medium text-indigo-700 hover:underline"
          >
            {listing.seller.display_name}
          </Link>
          <p className="text-sm text-slate-500">@{listing.seller.username}</p>
        </div>
        {listing.description && (
          <div className="mt-6">
            <h2 className="text-lg font-semibold">Description</h2>
            <p className="mt-2 whitespace-pre-line text-slate-700">
              {listing.description}
            </p>
          </div>
        )}
      </section>
    </div>
  );
}

function AddToCart({ listing }: { listing: Listing }) {
  const { signedIn, me } = useAuth();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const max = Math.min(listing.available, 99);
  const [quantity, setQuantity] = useState(1);
  const add = useMutation({
    mutationFn: () => api.setCartItem(listing.id, quantity),
    onSuccess: (cart) => queryClient.setQueryData(["cart"], cart),
  });

  if (listing.status !== "active" || max < 1) {
    return (
      <p
        role="status"
        className="mt-4 rounded-md bg-slate-100 p-3 font-semibold text-slate-700"
      >
        Sold out
      </p>
    );
  }
  if (me && me.username === listing.seller.username) {
    return (
      <p className="mt-4">
        This is your listing.{" "}
        <Link
          className="text-indigo-700 underline"
          to={`/sell/listings/${listing.id}`}
        >
          Edit it
        </Link>
      </p>
    );
  }
  const problem = add.error ? toProblem(add.error) : null;
  return (
    <form
      className="mt-4 flex flex-wrap items-end gap-3"
      onSubmit={(event) => {
        event.preventDefault();
        if (!signedIn) {
          navigate(
            `/signin?next=${encodeURIComponent(`/listings/${listing.id}`)}`,
          );
          return;
        }
        add.mutate();
      }}
    >
      <div>
        <label htmlFor="quantity" className="block text-sm font-medium">
          Quantity
        </label>
        <select
          id="quantity"
          value={quantity}
          onChange={(e) => setQuantity(Number(e.target.value))}
          className="mt-1 rounded-md border border-slate-300 bg-white px-3 py-2"
        >
          {Array.from({ length: max }, (_, i) => (
            <option key={i + 1} value={i + 1}>
              {i + 1}
            </option>
          ))}
        </select>
      </div>
      <Button type="submit" disabled={add.isPending}>
        {add.isPending ? "Adding…" : "Add to cart"}
      </Button>
      {add.isSuccess && (
        <p role="status" className="w-full text-sm text-green-700">
          Added to your cart.{" "}
          <Link className="underline" to="/cart">
            Go to cart
          </Link>
        </p>
      )}
      {problem && (
        <div className="w-full">
          <ProblemNotice problem={problem} onRetry={() => add.mutate()} />
        </div>
      )}
    </form>
  );
}
