#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/task.hpp"

namespace market::http {

struct ClientResponse {
  int status = 0;
  std::string body;
};

using ClientHeaders = std::vector<std::pair<std::string, std::string>>;

// POSTs `body` to a plain http:// URL (loopback services such as the local payment gateway's
// webhook receiver) over one fresh HTTP/1.1 connection, on the caller's executor. `timeout` bounds
// connecting, sending and reading the whole answer. Any status comes back as a response; failing
// to connect, a timeout, a broken answer or an answer over 1 MiB throw ServiceUnavailable. A URL
// that is not http:// is a programming error (std::invalid_argument).
// Build the headers as a named local: g++ 12 mishandles braced lists inside co_await expressions.
Task<ClientResponse> Post(std::string url, ClientHeaders headers, std::string body,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace market::http
