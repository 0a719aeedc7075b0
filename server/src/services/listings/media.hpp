#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace market::services {

enum class ImageFormat { kJpeg, kPng, kWebp };

std::string_view ImageFormatName(ImageFormat format);  // "jpeg", "png", "webp"

// An uploaded image, decoded and re-encoded: nothing of the client's bytes is stored as sent.
struct ProcessedImage {
  ImageFormat format = ImageFormat::kJpeg;
  int width = 0;
  int height = 0;
  std::string original;  // same format as uploaded, metadata stripped, orientation applied
  std::string small;     // WebP, 400 px on the longer side (never upscaled)
  std::string large;     // WebP, 1200 px on the longer side (never upscaled)
};

// Decodes untrusted bytes. Blocking and CPU-heavy: call it through Offload.
class ImageProcessor {
 public:
  virtual ~ImageProcessor() = default;
  // kValidationFailed with field "image" unless the bytes decode completely as a JPEG, PNG or
  // WebP within the pixel limits; the decision never rests on a name or a declared type.
  virtual Result<ProcessedImage> Process(std::string_view bytes) const = 0;
};

// Content-addressed blob storage for media. Blocking (file I/O): call it through Offload.
class MediaStore {
 public:
  virtual ~MediaStore() = default;
  // Stores `bytes` under a key derived from their SHA-256 (e.g. "ab/cd/abcd….webp") and returns
  // the key. Storing the same bytes again is a no-op returning the same key. Writes are atomic:
  // a reader never sees a half-written file.
  virtual std::string Put(std::string_view bytes, std::string_view extension) = 0;
};

// The read side of MediaStore, for serving. Keys come from URLs, so they are untrusted: an
// implementation answers only for keys of the exact form Put returns. Blocking: call it through
// Offload.
class MediaReader {
 public:
  virtual ~MediaReader() = default;
  // The stored bytes, or nothing when the key is malformed or unknown.
  virtual std::optional<std::string> Read(std::string_view key) const = 0;
  virtual bool Contains(std::string_view key) const = 0;
};

}  // namespace market::services
