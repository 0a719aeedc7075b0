const kLabels: Record<string, [string, string]> = {
  pending_payment: ["Awaiting payment", "bg-amber-100 text-amber-900"],
  paid: ["Paid", "bg-green-100 text-green-800"],
  completed: ["Completed", "bg-green-100 text-green-800"],
  cancelled: ["Cancelled", "bg-slate-200 text-slate-700"],
  expired: ["Expired", "bg-slate-200 text-slate-700"],
  awaiting_shipment: ["Awaiting shipment", "bg-blue-100 text-blue-800"],
  shipped: ["Shipped", "bg-indigo-100 text-indigo-800"],
  delivered: ["Delivered", "bg-green-100 text-green-800"],
};

export function StatusBadge({ status }: { status: string }) {
  const [label, style] = kLabels[status] ?? [status, "bg-slate-100"];
  return (
    <span
      className={`inline-block rounded-full px-2 py-0.5 text-xs font-semibold ${style}`}
    >
      {label}
    </span>
  );
}
