import type { ListingImage as Image } from "../api/types";

// The renditions as a srcset: 400 px and 1200 px WebP, the original as the fallback src.
export function ListingImage({
  image,
  alt,
  sizes,
  className = "",
  eager = false,
}: {
  image: Image | null | undefined;
  alt: string;
  sizes: string;
  className?: string;
  eager?: boolean;
}) {
  if (!image) {
    return (
      <div
        className={`flex items-center justify-center bg-slate-100 text-sm text-slate-600 ${className}`}
      >
        No photo
      </div>
    );
  }
  return (
    <img
      src={image.urls.large}
      srcSet={`${image.urls.small} 400w, ${image.urls.large} 1200w`}
      sizes={sizes}
      alt={alt}
      width={image.width}
      height={image.height}
      loading={eager ? "eager" : "lazy"}
      decoding="async"
      className={`bg-slate-100 object-cover ${className}`}
    />
  );
}
