import { useInfiniteQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { ListingImage } from "../components/ListingImage";
import { Button, PageHeading, ProblemNotice, Skeleton } from "../components/ui";
import { formatMoney } from "../lib/format";
import { useTitle } from "../lib/useTitle";

export function SellPage() {
  useTitle("Your listings");
  const { me } = useAuth();
  const username = me?.username;
  const listings = useInfiniteQuery({
    queryKey: ["shop", username],
    queryFn: ({ pageParam }) =>
      api.shop(username!, { sort: "newest", limit: 50, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    enabled: Boolean(username),
    refetchOnMount: "always",
  });
  const items = listings.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <PageHeading>Your listings</PageHeading>
        <div className="mb-4 flex gap-2">
          <Link
            to="/orders?role=seller"
            className="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-semibold"
          >
            Orders to ship
          </Link>
          <Link
            to="/sell/new"
            className="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-700"
          >
            New listing
          </Link>
        </div>
      </div>
      <p className="mb-4 text-sm text-slate-600">
        Active listings as buyers see them. A deactivated listing stays
        reachable from its own page.
      </p>
      {(listings.isPending || !username) && (
        <Skeleton className="h-32 w-full" />
      )}
      {listings.error && (
        <ProblemNotice
          problem={toProblem(listings.error)}
          onRetry={() => listings.refetch()}
        />
      )}
      {listings.isSuccess && items.length === 0 && (
        <p className="rounded-md border border-dashed border-slate-300 p-8 text-center">
          You have no active listings.{" "}
          <Link className="text-indigo-700 underline" to="/sell/new">
            Create one
          </Link>
          .
        </p>
      )}
      <ul className="space-y-2">
        {items.map((listing) => (
          <li key={listing.id}>
            <Link
              to={`/sell/listings/${listing.id}`}
              className="flex items-center gap-3 rounded-lg bg-white p-3 shadow-sm hover:shadow"
            >
              <ListingImage
                image={listing.main_image}
                alt={listing.title}
                sizes="64px"
                className="h-16 w-16 rounded"
              />
              <span className="flex-1 font-medium">{listing.title}</span>
              <span className="text-sm">
                {formatMoney(listing.price_cents, listing.currency)}
              </span>
              <span className="text-sm text-slate-500">
                {listing.available} available
              </span>
            </Link>
          </li>
        ))}
      </ul>
      {listings.hasNextPage && (
        <Button
          variant="secondary"
          className="mt-4"
          onClick={() => listings.fetchNextPage()}
        >
          Load more
        </Button>
      )}
    </div>
  );
}
