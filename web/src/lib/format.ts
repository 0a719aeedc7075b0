export function formatMoney(cents: number, currency: string): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(
    cents / 100,
  );
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleString("en-US", {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

export const kConditionLabels: Record<string, string> = {
  new: "New",
  like_new: "Like new",
  good: "Good",
  fair: "Fair",
};

export const kCategories = [
  "electronics",
  "computers",
  "phones",
  "cameras",
  "video-games",
  "home-garden",
  "furniture",
  "kitchen",
  "tools",
  "fashion",
  "shoes",
  "jewelry",
  "health-beauty",
  "baby",
  "toys",
] as const;

export function categoryLabel(slug: string): string {
  return slug
    .split("-")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(" & ")
    .replace("Video & Games", "Video games")
    .replace("Health & Beauty", "Health & beauty")
    .replace("Home & Garden", "Home & garden");
}

// Cents from what a person types as a price ("12", "12.5", "12.50"); null when it is not one.
export function parsePrice(text: string): number | null {
  const match = /^\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? "0").padEnd(2, "0"));
}
