import { useEffect, useState } from "react";

// Minutes and seconds left until `until`, ticking; "expired" once past.
export function Countdown({
  until,
  onExpired,
}: {
  until: string;
  onExpired?: () => void;
}) {
  const deadline = Date.parse(until);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const left = Math.max(0, Math.floor((deadline - now) / 1000));
  useEffect(() => {
    if (left === 0) onExpired?.();
  }, [left, onExpired]);
  if (left === 0) return <span>expired</span>;
  const minutes = Math.floor(left / 60);
  const seconds = String(left % 60).padStart(2, "0");
  return (
    <span role="timer" aria-live="off">
      {minutes}:{seconds}
    </span>
  );
}
