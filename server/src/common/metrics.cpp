#include "common/metrics.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace market {

std::size_t HttpMetrics::AddRoute(std::string_view method, std::string_view pattern) {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].method == method && routes_[i].pattern == pattern) return i;
  }
  Route& route = routes_.emplace_back();
  route.method = method;
  route.pattern = pattern;
  return routes_.size() - 1;
}

void HttpMetrics::Observe(std::size_t index, int status, std::chrono::nanoseconds elapsed) {
  Route& route = routes_[index];
  int status_class = std::clamp(status / 100, 1, 5) - 1;
  route.by_class[status_class].fetch_add(1, std::memory_order_relaxed);
  double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  route.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  route.sum_ns.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

std::string HttpMetrics::Render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP http_requests_total HTTP requests answered, by route and status class.\n";
  out += "# TYPE http_requests_total counter\n";
  for (const Route& r : routes_) {
    for (int c = 0; c < 5; ++c) {
      std::uint64_t n = r.by_class[c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += fmt::format("http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}xx\"}} {}\n",
                         r.method, r.pattern, c + 1, n);
    }
  }
  out += "# HELP http_request_duration_seconds Time from request parsed to response ready.\n";
  out += "# TYPE http_request_duration_seconds histogram\n";
  for (const Route& r : routes_) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += r.buckets[b].load(std::memory_order_relaxed);
      std::string le = b < kBuckets.size() ? fmt::format("{}", kBuckets[b]) : "+Inf";
      out += fmt::format(
          "http_request_duration_seconds_bucket{{method=\"{}\",route=\"{}\",le=\"{}\"}} {}\n",
          r.method, r.pattern, le, cumulative);
    }
    out += fmt::format("http_request_duration_seconds_sum{{method=\"{}\",route=\"{}\"}} {:.6f}\n",
                       r.method, r.pattern, r.sum_ns.load(std::memory_order_relaxed) / 1e9);
    out += fmt::format("http_request_duration_seconds_count{{method=\"{}\",route=\"{}\"}} {}\n",
                       r.method, r.pattern, cumulative);
  }
  return out;
}

}  // namespace market
