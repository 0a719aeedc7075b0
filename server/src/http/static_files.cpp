#include "http/static_files.hpp"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "common/error.hpp"
#include "http/conditional.hpp"

namespace market::http {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";
constexpr std::string_view kIndex = "/index.html";

std::string_view ContentTypeOf(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".webp", "image/webp"},
      {".avif", "image/avif"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (name.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// FNV-1a: stable across processes and machines, so every instance gives a file the same ETag.
std::string ContentTag(std::string_view bytes, std::string_view suffix) {
  std::uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return fmt::format("\"{:016x}-{:x}{}\"", hash, bytes.size(), suffix);
}

// Whether Accept-Encoding admits `coding`: listed with a q-value above 0, or, when not listed,
// covered by "*" with a q-value above 0 (RFC 9110 §12.5.3).
bool Accepts(std::string_view header, std::string_view coding) {
  std::optional<bool> named;
  std::optional<bool> any;
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    std::size_t semicolon = item.find(';');
    std::string_view name = item.substr(0, semicolon);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    bool acceptable = true;
    if (semicolon != std::string_view::npos) {
      std::string_view params = item.substr(semicolon + 1);
      std::size_t q = params.find("q=");
      if (q != std::string_view::npos) {
        std::string_view value = params.substr(q + 2);
        value = value.substr(0, value.find_first_of(" ;"));
        // q=0, q=0.0, q=0.000 refuse; any other digit accepts.
        acceptable = value.find_first_of("123456789") != std::string_view::npos;
      }
    }
    if (name == coding) named = acceptable;
    if (name == "*") any = acceptable;
  }
  return named.value_or(any.value_or(false));
}

// The path arrives percent-decoded: a '%' left in it was encoded twice, which no file or client
// route of the app ever is.
bool IsUnsafe(std::string_view path) {
  if (path.empty() || path.front() != '/') return true;
  if (path.find_first_of(std::string_view("\0\\%", 3)) != std::string_view::npos) return true;
  std::size_t start = 1;
  for (;;) {
    std::size_t slash = path.find('/', start);
    std::string_view segment =
        path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (segment == "." || segment == "..") return true;
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
}

bool IsApiPath(std::string_view path) {
  return path == "/api" || path.starts_with("/api/") || path == "/media" ||
         path.starts_with("/media/");
}

Response NotFound(const Request& request) {
  return ErrorResponse(MakeError(
      ErrorCode::kNotFound,
      "No route for " + std::string(MethodName(request.method)) + " " + request.path + "."));
}

}  // namespace

std::optional<StaticFiles> StaticFiles::Load(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_regular_file(root / "index.html", ec)) return std::nullopt;
  StaticFiles files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::directory_entry& entry = *it;
    std::string name = entry.path().filename().string();
    if (name.starts_with(".")) {
      if (entry.is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (entry.is_symlink() || !entry.is_regular_file()) continue;
    if (name.ends_with(".map") || name.ends_with(".br") || name.ends_with(".gz")) continue;

    std::string url = "/" + fs::relative(entry.path(), root).generic_string();
    File file;
    file.content_type = ContentTypeOf(name);
    file.immutable = url.starts_with("/assets/");
    file.identity.bytes = ReadAll(entry.path());
    file.identity.etag = ContentTag(file.identity.bytes, "");
    // The variants are tagged by the original's content, so a rebuild changes all three.
    fs::path brotli = entry.path().string() + ".br";
    if (fs::is_regular_file(brotli, ec)) {
      file.brotli = Variant{ReadAll(brotli), ContentTag(file.identity.bytes, "-br")};
    }
    fs::path gzip = entry.path().string() + ".gz";
    if (fs::is_regular_file(gzip, ec)) {
      file.gzip = Variant{ReadAll(gzip), ContentTag(file.identity.bytes, "-gz")};
    }
    files.files_.emplace(std::move(url), std::move(file));
  }
  // index.html through a link is not loaded: then there is no app to serve.
  if (!files.files_.contains(kIndex)) return std::nullopt;
  return files;
}

Response StaticFiles::Serve(const Request& request) const {
  std::string_view path = request.path;
  if (IsUnsafe(path) || IsApiPath(path)) return NotFound(request);
  auto found = files_.find(path == "/" ? kIndex : path);
  if (found != files_.end()) return Send(found->second, request);
  std::string_view last = path.substr(path.rfind('/') + 1);
  if (last.find('.') != std::string_view::npos) return NotFound(request);
  return Send(files_.find(kIndex)->second, request);
}

Response StaticFiles::Send(const File& file, const Request& request) const {
  std::string_view accept = request.Header("accept-encoding");
  const Variant* variant = &file.identity;
  std::string_view encoding;
  if (file.brotli && Accepts(accept, "br")) {
    variant = &*file.brotli;
    encoding = "br";
  } else if (file.gzip && Accepts(accept, "gzip")) {
    variant = &*file.gzip;
    encoding = "gzip";
  }

  Response response;
  if (IfNoneMatchMatches(request.Header("if-none-match"), variant->etag)) {
    response.status = 304;
  } else {
    response = Text(200, file.content_type, variant->bytes);
    if (!encoding.empty()) response.SetHeader("Content-Encoding", std::string(encoding));
  }
  response.SetHeader("ETag", variant->etag);
  response.SetHeader("Cache-Control", std::string(file.immutable ? kImmutable : kRevalidate));
  if (file.brotli || file.gzip) response.SetHeader("Vary", "Accept-Encoding");
  response.SetHeader("X-Content-Type-Options", "nosniff");
  return response;
}

}  // namespace market::http
