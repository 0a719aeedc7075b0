#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "services/listings/media.hpp"

namespace market::clients {

// True for exactly the keys FileMediaStore::Put makes: "hh/hh/<sha256 hex>.<ext>", lower-case
// hex, the directories being the first two byte pairs of the hash, ext one of jpg, png, webp.
// Nothing else (no "..", no absolute path, no other extension) can pass.
bool IsMediaKey(std::string_view key);

// Content-addressed media under a root directory (MEDIA_DIR). Files are written to a temporary
// name in their final directory and renamed into place, so a reader sees a whole file or none.
// There is no fsync: after a power loss a file may be missing or short, and Put rewrites a file
// whose size does not match. Blocking file I/O: call it through Offload. Thread-safe.
class FileMediaStore final : public services::MediaStore, public services::MediaReader {
 public:
  explicit FileMediaStore(std::filesystem::path root);

  // `extension` is "jpg" (or "jpeg", stored as "jpg"), "png" or "webp"; anything else is a
  // programming error (std::invalid_argument). File system errors throw std::system_error.
  std::string Put(std::string_view bytes, std::string_view extension) override;
  std::optional<std::string> Read(std::string_view key) const override;
  bool Contains(std::string_view key) const override;

  // Where a key lives, for serving; nothing unless IsMediaKey(key).
  std::optional<std::filesystem::path> PathFor(std::string_view key) const;
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace market::clients
