#include "common/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace market {

std::chrono::milliseconds RetryDelay(const BackoffPolicy& policy, int attempt, double unit) {
  const double base = static_cast<double>(std::max<std::int64_t>(policy.base.count(), 0));
  const double max = static_cast<double>(std::max<std::int64_t>(policy.max.count(), 0));
  // 2^63 overflows nothing in double, and the cap applies before converting back.
  const int doublings = std::clamp(attempt, 1, 64) - 1;
  const double step = std::min(max, std::ldexp(base, doublings));
  const double draw = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(step / 2 + draw * (step / 2)));
}

std::chrono::milliseconds RetryDelay(const BackoffPolicy& policy, int attempt) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return RetryDelay(policy, attempt, unit(random));
}

}  // namespace market
