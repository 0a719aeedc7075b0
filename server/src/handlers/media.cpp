#include "handlers/media.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/offload.hpp"
#include "http/conditional.hpp"

namespace market::handlers {
namespace {

namespace asio = boost::asio;
using http::Request;
using http::Response;

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";

std::string_view ContentTypeOf(std::string_view file) {
  if (file.ends_with(".jpg")) return "image/jpeg";
  if (file.ends_with(".png")) return "image/png";
  if (file.ends_with(".webp")) return "image/webp";
  return "application/octet-stream";
}

struct Loaded {
  bool found = false;
  std::string bytes;  // empty when only existence was asked
};

Task<Response> ServeMedia(const services::MediaReader& media, asio::thread_pool& file_pool,
                          Request& request) {
  std::string_view file = request.PathParam("file");
  std::string key = std::string(request.PathParam("a")) + "/" +
                    std::string(request.PathParam("b")) + "/" + std::string(file);
  // The file name is the content hash; it is only trusted once the store has accepted the key.
  std::string etag = "\"" + std::string(file.substr(0, file.find('.'))) + "\"";
  bool not_modified = http::IfNoneMatchMatches(request.Header("if-none-match"), etag);

  auto load = [&media, key = std::move(key), not_modified]() {
    Loaded loaded;
    if (not_modified) {
      loaded.found = media.Contains(key);
    } else if (auto bytes = media.Read(key)) {
      loaded.found = true;
      loaded.bytes = std::move(*bytes);
    }
    return loaded;
  };
  Loaded loaded = co_await Offload(file_pool, std::move(load));
  if (!loaded.found)
    co_return http::ErrorResponse(MakeError(ErrorCode::kNotFound, "No such media."));

  Response response;
  if (not_modified) {
    response.status = 304;
  } else {
    response = http::Text(200, std::string(ContentTypeOf(file)), std::move(loaded.bytes));
  }
  response.SetHeader("ETag", std::move(etag));
  response.SetHeader("Cache-Control", std::string(kImmutable));
  co_return response;
}

}  // namespace

void AddMediaRoutes(http::Router& router, const services::MediaReader& media,
                    asio::thread_pool& file_pool) {
  router.Add(http::Method::kGet, "/media/{a}/{b}/{file}", [&media, &file_pool](Request& request) {
    return ServeMedia(media, file_pool, request);
  });
}

}  // namespace market::handlers
