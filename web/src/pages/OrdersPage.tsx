import { useInfiniteQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import { StatusBadge } from "../components/StatusBadge";
import type { OrderStatus } from "../api/types";
import {
  Button,
  PageHeading,
  ProblemNotice,
  Select,
  Skeleton,
} from "../components/ui";
import { formatDate, formatMoney } from "../lib/format";
import { useTitle } from "../lib/useTitle";

const kStatuses: [OrderStatus, string][] = [
  ["pending_payment", "Awaiting payment"],
  ["paid", "Paid"],
  ["completed", "Completed"],
  ["cancelled", "Cancelled"],
  ["expired", "Expired"],
];

export function OrdersPage() {
  const [params, setParams] = useSearchParams();
  const role = params.get("role") === "seller" ? "seller" : "buyer";
  const status = kStatuses.find(
    ([value]) => value === params.get("status"),
  )?.[0];
  const show = (next: { role?: string; status?: string }) => {
    const query = new URLSearchParams();
    if ((next.role ?? role) === "seller") query.set("role", "seller");
    const nextStatus = "status" in next ? next.status : status;
    if (nextStatus) query.set("status", nextStatus);
    setParams(query);
  };
  useTitle(role === "seller" ? "Orders to ship" : "Your orders");
  const orders = useInfiniteQuery({
    queryKey: ["orders", role, status],
    queryFn: ({ pageParam }) => api.orders(role, status, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    refetchOnMount: "always",
  });
  const items = orders.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div>
      <PageHeading>Orders</PageHeading>
      <div className="mb-4 flex flex-wrap items-end gap-2">
        {(["buyer", "seller"] as const).map((tab) => (
          <button
            key={tab}
            type="button"
            aria-pressed={role === tab}
            onClick={() => show({ role: tab })}
            className={`rounded-md px-3 py-1.5 text-sm font-medium ${role === tab ? "bg-indigo-600 text-white" : "bg-white text-slate-700 shadow-sm"}`}
          >
            {tab === "buyer" ? "Purchases" : "Sales"}
          </button>
        ))}
        <Select
          label="Status"
          className="ml-auto"
          value={status ?? ""}
          onChange={(e) => show({ status: e.target.value || undefined })}
        >
          <option value="">Any status</option>
          {kStatuses.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </Select>
      </div>
      {orders.isPending && <Skeleton className="h-32 w-full" />}
      {orders.error && (
        <ProblemNotice
          problem={toProblem(orders.error)}
          onRetry={() => orders.refetch()}
        />
      )}
      {orders.isSuccess && items.length === 0 && (
        <p className="rounded-md border border-dashed border-slate-300 p-8 text-center text-slate-600">
          {status
            ? "No orders in this state."
            : role === "buyer"
              ? "You have not ordered anything yet."
              : "Nobody has ordered from you yet."}
        </p>
      )}
      <ul className="space-y-3">
        {items.map((order) => (
          <li key={order.id}>
            <Link
              to={`/orders/${order.id}`}
              className="block rounded-lg bg-white p-4 shadow-sm hover:shadow"
            >
              <div className="flex flex-wrap items-center justify-between gap-2">
                <span className="font-semibold">Order #{order.id}</span>
                <StatusBadge status={order.status} />
              </div>
              <p className="mt-1 text-sm text-slate-600">
                {order.items
                  .map((item) => `${item.quantity} × ${item.title}`)
                  .join(", ")}
              </p>
              <p className="mt-1 text-sm">
                {formatMoney(order.total_cents, order.currency)} ·{" "}
                {formatDate(order.created_at)}
                {role === "seller" &&
                  ` · bought by ${order.buyer.display_name}`}
              </p>
            </Link>
          </li>
        ))}
      </ul>
      {orders.hasNextPage && (
        <div className="mt-4 text-center">
          <Button
            variant="secondary"
            onClick={() => orders.fetchNextPage()}
            disabled={orders.isFetchingNextPage}
          >
            Load more
          </Button>
        </div>
      )}
    </div>
  );
}
