import type { ReactNode } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import { toProblem, type ApiProblem } from "../api/errors";
import { formatMoney } from "../lib/format";

// The form fields live in Field.tsx; pages that predate it import them from here.
export { Field, Select } from "./Field";

export function Button({
  variant = "primary",
  className = "",
  ...button
}: React.ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: "primary" | "secondary" | "danger";
}) {
  const styles = {
    primary:
      "bg-indigo-600 text-white hover:bg-indigo-700 disabled:bg-indigo-300",
    secondary:
      "border border-slate-300 bg-white text-slate-800 hover:bg-slate-100 disabled:text-slate-400",
    danger: "bg-red-600 text-white hover:bg-red-700 disabled:bg-red-300",
  }[variant];
  return (
    <button
      type="button"
      className={`inline-flex items-center justify-center rounded-md px-4 py-2 text-sm font-semibold ${styles} ${className}`}
      {...button}
    />
  );
}

// The problem's message; with a retry when the server could not be reached.
export function ProblemNotice({
  problem,
  onRetry,
}: {
  problem: ApiProblem;
  onRetry?: () => void;
}) {
  return (
    <div
      role="alert"
      className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800"
    >
      <p>{problem.message}</p>
      {problem.network && onRetry && (
        <Button variant="secondary" className="mt-2" onClick={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}

export function PageHeading({ children }: { children: ReactNode }) {
  return <h1 className="mb-4 text-2xl font-bold tracking-tight">{children}</h1>;
}

export function Skeleton({ className = "" }: { className?: string }) {
  return (
    <div
      aria-hidden="true"
      className={`animate-pulse rounded-md bg-slate-200 ${className}`}
    />
  );
}

// A query's three states in one place: a skeleton while it loads, the problem with a retry when
// it failed, the page once the data is there.
export function QueryGate<T>({
  query,
  skeleton = "h-64 w-full",
  children,
}: {
  query: UseQueryResult<T>;
  skeleton?: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Skeleton className={skeleton} />;
  if (query.error) {
    return (
      <ProblemNotice
        problem={toProblem(query.error)}
        onRetry={() => query.refetch()}
      />
    );
  }
  return children(query.data);
}

export function TotalRow({
  cents,
  currency,
}: {
  cents: number;
  currency: string;
}) {
  return (
    <p className="mt-3 flex justify-between border-t pt-2 font-semibold">
      <span>Total</span>
      <span>{formatMoney(cents, currency)}</span>
    </p>
  );
}
