#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace market::clients {

// One HTTP(S) request to a provider's API (Stripe, Google), with libcurl.
struct FetchRequest {
  std::string method = "GET";        // GET or POST
  std::string url;                   // http:// or https:// only
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // POST
  // Bounds the whole exchange: resolving, connecting, TLS, sending and reading the answer.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

struct FetchResponse {
  long status = 0;
  std::string body;
};

// Performs `request` and returns any answer, whatever its status. Blocking: run it off the io
// threads (Offload). A transport failure (resolving, connecting, TLS, a timeout) or an answer over
// 1 MiB throws ServiceUnavailable naming the host and what failed, never the headers (they carry
// credentials). Thread-safe.
FetchResponse CurlFetch(const FetchRequest& request);

// application/x-www-form-urlencoded, as Stripe takes its parameters: name=value&…, both
// percent-encoded (brackets included: metadata[order_id]).
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);
// A path segment or query value, percent-encoded.
std::string UrlEscape(std::string_view text);

}  // namespace market::clients
