#pragma once

#include <stdexcept>

namespace market {

// A dependency (database, cache, outbound service) is down or saturated. Adapters throw it, or an
// exception derived from it, so that the HTTP boundary answers 503 with Retry-After instead of a
// 500: the client should retry, and nothing about the outage leaks. what() is logged, never sent.
struct ServiceUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace market
