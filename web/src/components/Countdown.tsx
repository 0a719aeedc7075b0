import { useEffect, useState } from "react";

// Minutes and seconds left until `until`, ticking down to 0:00.
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
  const left = Math.max(0, Math.ceil((deadline - now) / 1000));
  useEffect(() => {
    if (left === 0) onExpired?.();
  }, [left, onExpired]);
  const minutes = Math.floor(left / 60);
  const seconds = String(left % 60).padStart(2, "0");
  return (
    <span role="timer" aria-live="off">
      {minutes}:{seconds}
    </span>
  );
}
