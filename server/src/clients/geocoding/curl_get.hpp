#pragma once

#include <chrono>
#include <string>

namespace market::clients {

struct HttpAnswer {
  long status = 0;  // 0 when no answer came (see error)
  std::string body;
  std::string error;  // libcurl's reason when the request failed: timeout, refused, TLS…
};

// One blocking GET with libcurl, within `timeout` for the whole exchange (connect included), TLS
// peers verified. Call it through Offload: it blocks. Thread-safe (one handle per call).
HttpAnswer CurlGet(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace market::clients
