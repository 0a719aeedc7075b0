#pragma once

#include <chrono>

namespace market {

using TimePoint = std::chrono::system_clock::time_point;

// The seam tests use to move time (token expiry, rate-limit refill).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace market
