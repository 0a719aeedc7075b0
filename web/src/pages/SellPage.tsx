import {
  useInfiniteQuery,
  useMutation,
  useQueryClient,
} from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type { OwnListingStatus, OwnListingSummary } from "../api/types";
import { ListingImage } from "../components/ListingImage";
import { Button, PageHeading, ProblemNotice, Skeleton } from "../components/ui";
import { formatMoney } from "../lib/format";
import { useTitle } from "../lib/useTitle";

const kFilters: [OwnListingStatus, string][] = [
  ["all", "All"],
  ["active", "Active"],
  ["inactive", "Inactive"],
];

export function SellPage() {
  useTitle("Your listings");
  const [params, setParams] = useSearchParams();
  const status =
    kFilters.find(([value]) => value === params.get("status"))?.[0] ?? "all";
  const queryClient = useQueryClient();
  const listings = useInfiniteQuery({
    queryKey: ["myListings", status],
    queryFn: ({ pageParam }) =>
      api.myListings({ status, sort: "newest", limit: 50, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    refetchOnMount: "always",
  });
  const toggle = useMutation({
    mutationFn: (listing: OwnListingSummary) =>
      api.setListingActive(listing.id, listing.status !== "active"),
    onSuccess: (saved) => {
      queryClient.setQueryData(["listing", saved.id], saved);
      return queryClient.invalidateQueries({ queryKey: ["myListings"] });
    },
  });
  const items = listings.data?.pages.flatMap((page) => page.items) ?? [];
  const empty = {
    all: "You have no listings yet.",
    active: "You have no active listings.",
    inactive: "You have no inactive listings.",
  }[status];

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
        Buyers see your active listings. An inactive one is hidden from them
        until you activate it again.
      </p>
      <div role="group" aria-label="Show" className="mb-4 flex gap-2">
        {kFilters.map(([value, label]) => (
          <button
            key={value}
            type="button"
            aria-pressed={status === value}
            onClick={() =>
              setParams(value === "all" ? {} : { status: value }, {
                replace: true,
              })
            }
            className={`rounded-md px-3 py-1.5 text-sm font-medium ${status === value ? "bg-indigo-600 text-white" : "bg-white text-slate-700 shadow-sm"}`}
          >
            {label}
          </button>
        ))}
      </div>
      {listings.isPending && <Skeleton className="h-32 w-full" />}
      {listings.error && (
        <ProblemNotice
          problem={toProblem(listings.error)}
          onRetry={() => listings.refetch()}
        />
      )}
      {toggle.error && <ProblemNotice problem={toProblem(toggle.error)} />}
      {listings.isSuccess && items.length === 0 && (
        <p className="rounded-md border border-dashed border-slate-300 p-8 text-center">
          {empty}{" "}
          <Link className="text-indigo-700 underline" to="/sell/new">
            Create one
          </Link>
          .
        </p>
      )}
      <ul className="space-y-2">
        {items.map((listing) => (
          <li
            key={listing.id}
            className="flex flex-wrap items-center gap-3 rounded-lg bg-white p-3 shadow-sm"
          >
            <Link
              to={`/sell/listings/${listing.id}`}
              className="flex min-w-0 flex-1 items-center gap-3 hover:underline"
            >
              <ListingImage
                image={listing.main_image}
                alt={listing.title}
                sizes="64px"
                className="h-16 w-16 rounded"
              />
              <span className="flex-1 font-medium">{listing.title}</span>
            </Link>
            <span
              className={`rounded-full px-2 py-0.5 text-xs font-semibold ${listing.status === "active" ? "bg-green-100 text-green-800" : "bg-slate-200 text-slate-700"}`}
            >
              {listing.status === "active" ? "Active" : "Inactive"}
            </span>
            <span className="text-sm">
              {formatMoney(listing.price_cents, listing.currency)}
            </span>
            <span className="text-sm text-slate-600" data-testid="stock">
              {listing.quantity} on hand ·{" "}
              {listing.quantity - listing.available} reserved ·{" "}
              {listing.available} available
            </span>
            <Button
              variant="secondary"
              aria-label={`${listing.status === "active" ? "Deactivate" : "Activate"} ${listing.title}`}
              onClick={() => toggle.mutate(listing)}
              disabled={toggle.isPending}
            >
              {listing.status === "active" ? "Deactivate" : "Activate"}
            </Button>
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
