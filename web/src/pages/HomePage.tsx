import { useInfiniteQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, type ListingQuery } from "../api/api";
import { toProblem } from "../api/errors";
import type { ListingSummary } from "../api/types";
import { ListingImage } from "../components/ListingImage";
import {
  Button,
  Field,
  PageHeading,
  ProblemNotice,
  Select,
  Skeleton,
} from "../components/ui";
import {
  categoryLabel,
  formatMoney,
  kCategories,
  kConditionLabels,
  parsePrice,
} from "../lib/format";
import { useTitle } from "../lib/useTitle";

// The filters live in the URL, so a search can be shared, bookmarked and gone back to.
function queryFrom(params: URLSearchParams): ListingQuery {
  const number = (name: string) => {
    const value = params.get(name);
    return value && /^\d+$/.test(value) ? Number(value) : undefined;
  };
  return {
    q: params.get("q") ?? undefined,
    category: params.get("category") ?? undefined,
    condition: params.get("condition") ?? undefined,
    min_price: number("min_price"),
    max_price: number("max_price"),
    in_stock: params.get("in_stock") === "true",
    sort: params.get("sort") ?? undefined,
  };
}

export function HomePage() {
  const [params, setParams] = useSearchParams();
  const query = queryFrom(params);
  useTitle(query.q ? `Search: ${query.q}` : "Browse");

  const listings = useInfiniteQuery({
    queryKey: ["listings", query],
    queryFn: ({ pageParam }) =>
      api.listings({ ...query, limit: 24, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  const items = listings.data?.pages.flatMap((page) => page.items) ?? [];
  const problem = listings.error ? toProblem(listings.error) : null;

  return (
    <div className="grid gap-6 md:grid-cols-[16rem_1fr]">
      <Filters
        key={params.toString()}
        params={params}
        onApply={setParams}
        problemFields={problem?.fields ?? {}}
      />
      <section aria-labelledby="results-heading">
        <PageHeading>
          <span id="results-heading">
            {query.q ? `Results for “${query.q}”` : "Latest listings"}
          </span>
        </PageHeading>
        {problem && (
          <ProblemNotice problem={problem} onRetry={() => listings.refetch()} />
        )}
        {listings.isPending && (
          <ul
            className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4"
            aria-label="Loading listings"
          >
            {Array.from({ length: 8 }, (_, i) => (
              <li key={i}>
                <Skeleton className="aspect-square w-full" />
                <Skeleton className="mt-2 h-4 w-3/4" />
              </li>
            ))}
          </ul>
        )}
        {listings.isSuccess && items.length === 0 && (
          <p className="rounded-md border border-dashed border-slate-300 p-8 text-center text-slate-600">
            Nothing matches. Try fewer words or other filters.
          </p>
        )}
        {items.length > 0 && (
          <ul className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
            {items.map((listing, i) => (
              <li key={listing.id}>
                <ListingCard listing={listing} eager={i < 4} />
              </li>
            ))}
          </ul>
        )}
        {listings.hasNextPage && (
          <div className="mt-6 text-center">
            <Button
              variant="secondary"
              onClick={() => listings.fetchNextPage()}
              disabled={listings.isFetchingNextPage}
            >
              {listings.isFetchingNextPage ? "Loading…" : "Load more"}
            </Button>
          </div>
        )}
      </section>
    </div>
  );
}

export function ListingCard({
  listing,
  eager,
}: {
  listing: ListingSummary;
  eager?: boolean;
}) {
  return (
    <Link
      to={`/listings/${listing.id}`}
      className="group block rounded-lg bg-white p-2 shadow-sm hover:shadow"
    >
      <ListingImage
        image={listing.main_image}
        alt={listing.title}
        sizes="(min-width: 1024px) 16vw, (min-width: 640px) 30vw, 45vw"
        className="aspect-square w-full rounded-md"
        eager={eager}
      />
      <h2 className="mt-2 line-clamp-2 text-sm font-medium group-hover:text-indigo-700">
        {listing.title}
      </h2>
      <p className="text-sm font-semibold">
        {formatMoney(listing.price_cents, listing.currency)}
      </p>
      <p className="text-xs text-slate-500">
        {listing.available > 0
          ? `${kConditionLabels[listing.condition]} · ${listing.seller.display_name}`
          : "Sold out"}
      </p>
    </Link>
  );
}

function Filters({
  params,
  onApply,
  problemFields,
}: {
  params: URLSearchParams;
  onApply: (params: URLSearchParams) => void;
  problemFields: Record<string, string>;
}) {
  const [q, setQ] = useState(params.get("q") ?? "");
  const [category, setCategory] = useState(params.get("category") ?? "");
  const [condition, setCondition] = useState(params.get("condition") ?? "");
  const [minPrice, setMinPrice] = useState(centsText(params.get("min_price")));
  const [maxPrice, setMaxPrice] = useState(centsText(params.get("max_price")));
  const [inStock, setInStock] = useState(params.get("in_stock") === "true");
  const [sort, setSort] = useState(params.get("sort") ?? "");
  // On a phone the filters fold away below the search box (open when any is set).
  const [showFilters, setShowFilters] = useState(
    [
      "category",
      "condition",
      "min_price",
      "max_price",
      "in_stock",
      "sort",
    ].some((name) => params.has(name)),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams();
    const found: Record<string, string> = {};
    const min = minPrice.trim() ? parsePrice(minPrice) : undefined;
    const max = maxPrice.trim() ? parsePrice(maxPrice) : undefined;
    if (min === null) found.min_price = "Enter a price such as 10 or 10.50.";
    if (max === null) found.max_price = "Enter a price such as 10 or 10.50.";
    if (min != null && max != null && min > max)
      found.max_price = "Must not be below the minimum.";
    if (sort === "relevance" && !q.trim())
      found.sort = "Relevance needs search words.";
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    if (q.trim()) next.set("q", q.trim());
    if (category) next.set("category", category);
    if (condition) next.set("condition", condition);
    if (min != null) next.set("min_price", String(min));
    if (max != null) next.set("max_price", String(max));
    if (inStock) next.set("in_stock", "true");
    if (sort) next.set("sort", sort);
    onApply(next);
  };

  return (
    <form
      role="search"
      onSubmit={submit}
      className="space-y-3 rounded-lg bg-white p-4 shadow-sm md:self-start"
    >
      <Field
        label="Search"
        type="search"
        name="q"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        placeholder="Search listings"
        error={problemFields.q}
      />
      <button
        type="button"
        className="text-sm font-medium text-indigo-700 md:hidden"
        aria-expanded={showFilters}
        aria-controls="filters"
        onClick={() => setShowFilters(!showFilters)}
      >
        {showFilters ? "Hide filters" : "Filters and sort"}
      </button>
      <div
        id="filters"
        className={showFilters ? "space-y-3" : "hidden space-y-3 md:block"}
      >
        <Select
          label="Category"
          value={category}
          onChange={(e) => setCategory(e.target.value)}
          error={problemFields.category}
        >
          <option value="">All categories</option>
          {kCategories.map((slug) => (
            <option key={slug} value={slug}>
              {categoryLabel(slug)}
            </option>
          ))}
        </Select>
        <Select
          label="Condition"
          value={condition}
          onChange={(e) => setCondition(e.target.value)}
          error={problemFields.condition}
        >
          <option value="">Any condition</option>
          {Object.entries(kConditionLabels).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </Select>
        <div className="grid grid-cols-2 gap-2">
          <Field
            label="Min price"
            inputMode="decimal"
            value={minPrice}
            onChange={(e) => setMinPrice(e.target.value)}
            error={errors.min_price ?? problemFields.min_price}
          />
          <Field
            label="Max price"
            inputMode="decimal"
            value={maxPrice}
            onChange={(e) => setMaxPrice(e.target.value)}
            error={errors.max_price ?? problemFields.max_price}
          />
        </div>
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            checked={inStock}
            onChange={(e) => setInStock(e.target.checked)}
          />
          In stock only
        </label>
        <Select
          label="Sort by"
          value={sort}
          onChange={(e) => setSort(e.target.value)}
          error={errors.sort ?? problemFields.sort}
        >
          <option value="">Best match / newest</option>
          <option value="newest">Newest</option>
          <option value="price_asc">Price: low to high</option>
          <option value="price_desc">Price: high to low</option>
          <option value="relevance">Relevance</option>
        </Select>
      </div>
      <Button type="submit" className="w-full">
        Search
      </Button>
    </form>
  );
}

function centsText(value: string | null): string {
  if (!value || !/^\d+$/.test(value)) return "";
  const cents = Number(value);
  return cents % 100 === 0 ? String(cents / 100) : (cents / 100).toFixed(2);
}
