import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import {
  Button,
  PageHeading,
  ProblemNotice,
  QueryGate,
} from "../components/ui";
import { useTitle } from "../lib/useTitle";
import { ListingCard } from "./HomePage";

export function UserPage() {
  const username = useParams().username ?? "";
  const user = useQuery({
    queryKey: ["user", username],
    queryFn: () => api.user(username),
  });
  const listings = useInfiniteQuery({
    queryKey: ["shop", username],
    queryFn: ({ pageParam }) =>
      api.shop(username, { sort: "newest", limit: 24, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    enabled: user.isSuccess,
  });
  useTitle(user.data?.display_name ?? username);
  const items = listings.data?.pages.flatMap((page) => page.items) ?? [];

  if (user.error && toProblem(user.error).status === 404) {
    return (
      <div>
        <PageHeading>Seller not found</PageHeading>
        <p>
          <Link className="text-indigo-700 underline" to="/">
            Browse the listings
          </Link>
        </p>
      </div>
    );
  }
  return (
    <QueryGate query={user} skeleton="h-24 w-full">
      {(profile) => (
        <div>
          <PageHeading>{profile.display_name}</PageHeading>
          <p className="-mt-3 mb-6 text-sm text-slate-500">
            @{profile.username} · selling since{" "}
            {new Date(profile.created_at).toLocaleDateString("en-US", {
              month: "long",
              year: "numeric",
            })}
          </p>
          {listings.error && (
            <ProblemNotice
              problem={toProblem(listings.error)}
              onRetry={() => listings.refetch()}
            />
          )}
          {listings.isSuccess && items.length === 0 && (
            <p className="rounded-md border border-dashed border-slate-300 p-8 text-center text-slate-600">
              Nothing for sale right now.
            </p>
          )}
          <ul className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
            {items.map((listing) => (
              <li key={listing.id}>
                <ListingCard listing={listing} />
              </li>
            ))}
          </ul>
          {listings.hasNextPage && (
            <div className="mt-6 text-center">
              <Button
                variant="secondary"
                onClick={() => listings.fetchNextPage()}
              >
                Load more
              </Button>
            </div>
          )}
        </div>
      )}
    </QueryGate>
  );
}
