#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace market::clients {

enum class GoogleApi { kGeocode, kAutocomplete };
// What became of one call to Google: a cached answer, one fetched, an attempt that failed and
// was retried, or a call given up on (the offline geocoder answered instead).
enum class GoogleResult { kCached, kAnswered, kRetried, kGaveUp };

// Counts and time spent per API and result, for /metrics. Lock-free, shared by every io thread.
class GoogleMetrics {
 public:
  void Count(GoogleApi api, GoogleResult result);
  void Spent(GoogleApi api, std::chrono::nanoseconds elapsed);
  std::uint64_t count(GoogleApi api, GoogleResult result) const;
  // Prometheus text: google_maps_calls_total{api,result} and google_maps_call_seconds_sum{api}.
  std::string Render() const;

 private:
  std::array<std::array<std::atomic<std::uint64_t>, 4>, 2> counts_{};
  std::array<std::atomic<std::uint64_t>, 2> spent_ns_{};
};

}  // namespace market::clients
