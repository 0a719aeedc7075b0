#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace market {

// Request counts and latency per route, for /metrics. Routes are registered before serving;
// Observe is lock-free and called from every io thread.
class HttpMetrics {
 public:
  // Returns a stable index; registering the same route again returns the same index.
  std::size_t AddRoute(std::string_view method, std::string_view pattern);
  void Observe(std::size_t route, int status, std::chrono::nanoseconds elapsed);
  // Prometheus text exposition format.
  std::string Render() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};
  struct Route {
    std::string method;
    std::string pattern;
    std::array<std::atomic<std::uint64_t>, 5> by_class{};  // 1xx..5xx
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_ns{0};
  };
  mutable std::mutex mutex_;  // guards registration only
  std::deque<Route> routes_;
};

}  // namespace market
