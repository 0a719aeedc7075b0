#pragma once

#include <chrono>
#include <string>

#include "common/task.hpp"

namespace market::services {

// A token bucket: up to `burst` requests at once, refilled by one every `interval`.
struct RateRule {
  int burst = 10;
  std::chrono::milliseconds interval{6000};
};

struct RateDecision {
  bool allowed = true;
  std::chrono::milliseconds retry_after{0};
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Takes one token from the bucket named `key`. Must not throw when the store is down: it then
  // admits (and logs), since refusing every login while Redis restarts is worse than a short
  // window without brute-force limits.
  virtual Task<RateDecision> Take(const std::string& key, const RateRule& rule) = 0;
};

}  // namespace market::services
