// A fresh Idempotency-Key. crypto.randomUUID needs a secure context, which loopback is; the
// fallback covers plain-HTTP hosts.
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
