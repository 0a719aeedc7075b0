#pragma once

#include <string_view>

#include "common/result.hpp"
#include "services/listings/media.hpp"

namespace market::clients {

struct ImageLimits {
  int max_side = 12000;
  long long max_pixels = 40'000'000;
};

// services::ImageProcessor over libvips. Only JPEG, PNG and WebP are decoded, by their own
// loaders; the size limits are checked on the header, before any pixel is decoded, and the whole
// image is decoded once so that a truncated or corrupt file is refused. Thread-safe.
//
// Peak memory of one call is the decoded image at 8 bits per sample: up to max_pixels × 4 bytes
// (160 MB at the defaults), so run it on a pool no larger than memory allows.
class VipsImageProcessor final : public services::ImageProcessor {
 public:
  // Initialises libvips once per process. Throws std::runtime_error if it cannot.
  explicit VipsImageProcessor(ImageLimits limits = {});

  Result<services::ProcessedImage> Process(std::string_view bytes) const override;

 private:
  ImageLimits limits_;
};

}  // namespace market::clients
