#pragma once

#include <atomic>
#include <chrono>
#include <optional>

namespace market {

// Lets one event through per interval across all threads, counting the ones held back: for
// warnings that an outage would otherwise log once per request.
class Throttle {
 public:
  explicit Throttle(std::chrono::steady_clock::duration interval) : interval_(interval.count()) {}

  // How many were held back since the last one let through, or nothing when this one is held.
  std::optional<long> Admit() {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto due = next_.load(std::memory_order_relaxed);
    if (now < due ||
        !next_.compare_exchange_strong(due, now + interval_, std::memory_order_relaxed)) {
      held_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return held_.exchange(0, std::memory_order_relaxed);
  }

 private:
  const std::chrono::steady_clock::rep interval_;
  std::atomic<std::chrono::steady_clock::rep> next_{0};
  std::atomic<long> held_{0};
};

}  // namespace market
