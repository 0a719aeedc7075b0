#include "http/middleware.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <exception>
#include <random>

#include <spdlog/spdlog.h>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/unavailable.hpp"
#include "http/percent_decode.hpp"

namespace market::http {
namespace {

constexpr std::string_view kAllowMethods = "GET, POST, PUT, PATCH, DELETE";
constexpr std::string_view kAllowHeaders =
    "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id";
constexpr std::string_view kExposeHeaders = "X-Request-Id, Retry-After, ETag";
constexpr std::string_view kPreflightMaxAge = "600";

bool OriginAllowed(const ServerOptions& options, std::string_view origin) {
  return !origin.empty() && std::find(options.cors_origins.begin(), options.cors_origins.end(),
                                      origin) != options.cors_origins.end();
}

void AddVaryOrigin(Response& response) {
  std::string vary(response.Header("Vary"));
  if (vary.find("Origin") != std::string::npos || vary == "*") return;
  response.SetHeader("Vary", vary.empty() ? "Origin" : vary + ", Origin");
}

Response PreflightResponse(const ServerOptions& options, const Request& request) {
  if (!OriginAllowed(options, request.Header("origin"))) {
    return ErrorResponse(MakeError(ErrorCode::kForbidden, "Origin not allowed."));
  }
  Response response = NoContent();
  response.SetHeader("Access-Control-Allow-Methods", std::string(kAllowMethods));
  response.SetHeader("Access-Control-Allow-Headers", std::string(kAllowHeaders));
  response.SetHeader("Access-Control-Max-Age", std::string(kPreflightMaxAge));
  return response;
}

// Browsers resolve "." and ".." before sending, so only a probe sends them; refusing them here
// means no handler (static files above all) has to think about traversal.
bool HasDotSegment(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    std::string_view segment =
        path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (segment == "." || segment == "..") return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

bool SplitTarget(Request& request) {
  std::string_view target = request.target;
  // Origin-form only: we sit behind our own proxy, so absolute-form or "*" is not a client of ours.
  if (target.empty() || target.front() != '/') return false;
  std::size_t mark = target.find('?');
  auto path = PercentDecode(target.substr(0, mark), false);
  if (!path || HasDotSegment(*path)) return false;
  request.path = std::move(*path);
  request.query =
      mark == std::string_view::npos ? std::string{} : std::string(target.substr(mark + 1));
  return true;
}

}  // namespace

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string NewRequestId() {
  // Ids only need to be unique and unguessable enough not to collide across instances; a
  // per-thread generator avoids a lock on every request.
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (std::size_t half = 0; half < 2; ++half) {
    std::uint64_t bits = generator();
    for (std::size_t i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = kHex[bits & 0xf];
  }
  return id;
}

void AssignRequestId(Request& request) {
  std::string_view incoming = request.Header("x-request-id");
  request.request_id = IsValidRequestId(incoming) ? std::string(incoming) : NewRequestId();
}

Task<Response> HandleRequest(const Router& router, const ServerOptions& options, Request& request) {
  Response response;
  if (!SplitTarget(request)) {
    response = ErrorResponse(MakeError(ErrorCode::kBadRequest, "Malformed request target."));
  } else if (request.method == Method::kOptions && !request.Header("origin").empty() &&
             !request.Header("access-control-request-method").empty()) {
    response = PreflightResponse(options, request);
  } else {
    try {
      response = co_await router.Dispatch(request);
    } catch (const ServiceUnavailable& e) {
      spdlog::warn("request {}: dependency unavailable: {}", request.request_id, e.what());
      Error error = MakeError(ErrorCode::kUnavailable, "Service temporarily unavailable.");
      error.retry_after = std::chrono::seconds(1);
      response = ErrorResponse(error);
    } catch (const std::exception& e) {
      spdlog::error("request {}: unhandled exception: {}", request.request_id, e.what());
      response = ErrorResponse(MakeError(ErrorCode::kInternal, "Internal server error."));
    } catch (...) {
      spdlog::error("request {}: unhandled non-standard exception", request.request_id);
      response = ErrorResponse(MakeError(ErrorCode::kInternal, "Internal server error."));
    }
  }
  ApplyResponseHeaders(options, request, response);
  co_return response;
}

void ApplyResponseHeaders(const ServerOptions& options, const Request& request,
                          Response& response) {
  response.SetHeader("X-Request-Id", request.request_id);
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("X-Frame-Options", "DENY");
  response.SetHeader("Referrer-Policy", "no-referrer");
  response.SetHeader("Cross-Origin-Opener-Policy", "same-origin");
  // API answers are per-user and change with every write; no cache may keep them.
  if (response.content_type.starts_with("application/json") &&
      response.Header("Cache-Control").empty()) {
    response.SetHeader("Cache-Control", "no-store");
  }
  if (options.cors_origins.empty()) return;
  // Vary on every response, not only allowed ones: a shared cache must not hand an answer without
  // CORS headers to an allowed origin, or one with them to another.
  AddVaryOrigin(response);
  std::string_view origin = request.Header("origin");
  if (!OriginAllowed(options, origin)) return;
  response.SetHeader("Access-Control-Allow-Origin", std::string(origin));
  response.SetHeader("Access-Control-Expose-Headers", std::string(kExposeHeaders));
}

std::string AccessLogLine(const AccessLogEntry& entry) {
  using namespace std::chrono;
  auto since_epoch = entry.ts.time_since_epoch();
  std::time_t seconds = duration_cast<std::chrono::seconds>(since_epoch).count();
  auto millis = duration_cast<milliseconds>(since_epoch).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::size_t length = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + length, sizeof stamp - length, ".%03dZ", static_cast<int>(millis));

  boost::json::object line;
  line["ts"] = stamp;
  line["level"] = "info";
  line["msg"] = "request";
  line["request_id"] = entry.request_id;
  line["method"] = entry.method;
  line["path"] = entry.path;
  line["status"] = entry.status;
  line["bytes"] = entry.bytes;
  // Integer microseconds: Boost.JSON prints doubles in exponent form (3.666E0).
  line["duration_us"] = duration_cast<microseconds>(entry.duration).count();
  line["remote_ip"] = entry.remote_ip;
  line["user_agent"] = entry.user_agent;
  return boost::json::serialize(line);
}

}  // namespace market::http
