#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/request.hpp"
#include "http/response.hpp"

namespace market::http {

// The built web app (web/dist), read into memory once at start-up and answered from there: a
// request can only ever get one of the files that were loaded, whatever its path.
// - Files under /assets/ are named by their content hash: cached for a year as immutable.
//   Everything else, index.html above all, is `no-cache` (revalidated through its ETag), so a
//   new build is seen at once.
// - NAME.br and NAME.gz written next to a file by the build are sent instead of it when
//   Accept-Encoding allows (brotli first), with `Vary: Accept-Encoding`.
// - A path that names no file and whose last segment has no extension is a client route of the
//   single-page app: index.html. A missing file with an extension is 404, so a stale chunk
//   never comes back as HTML.
// - Source maps (.map) and dotfiles are not loaded, hence never served.
// - /api and /media paths are never the app's: 404 in the API's error body.
class StaticFiles {
 public:
  // Everything under `root`, or nothing when it has no index.html (the app is not built).
  static std::optional<StaticFiles> Load(const std::filesystem::path& root);

  // Answers a GET or HEAD that no API route took.
  Response Serve(const Request& request) const;

  std::size_t file_count() const { return files_.size(); }

 private:
  struct Variant {
    std::string bytes;
    std::string etag;
  };
  struct File {
    std::string content_type;
    bool immutable = false;
    Variant identity;
    std::optional<Variant> brotli;
    std::optional<Variant> gzip;
  };

  Response Send(const File& file, const Request& request) const;

  std::map<std::string, File, std::less<>> files_;  // by URL path, e.g. "/index.html"
};

}  // namespace market::http
