#include "clients/geocoding/google_metrics.hpp"

#include <fmt/format.h>

namespace market::clients {
namespace {

constexpr const char* kApis[] = {"geocode", "autocomplete"};
constexpr const char* kResults[] = {"cached", "answered", "retried", "gave_up"};

}  // namespace

void GoogleMetrics::Count(GoogleApi api, GoogleResult result) {
  counts_[static_cast<int>(api)][static_cast<int>(result)].fetch_add(1, std::memory_order_relaxed);
}

void GoogleMetrics::Spent(GoogleApi api, std::chrono::nanoseconds elapsed) {
  spent_ns_[static_cast<int>(api)].fetch_add(static_cast<std::uint64_t>(elapsed.count()),
                                             std::memory_order_relaxed);
}

std::uint64_t GoogleMetrics::count(GoogleApi api, GoogleResult result) const {
  return counts_[static_cast<int>(api)][static_cast<int>(result)].load(std::memory_order_relaxed);
}

std::string GoogleMetrics::Render() const {
  std::string out;
  out += "# HELP google_maps_calls_total Calls to Google Maps by API and result.\n";
  out += "# TYPE google_maps_calls_total counter\n";
  for (int api = 0; api < 2; ++api) {
    for (int result = 0; result < 4; ++result) {
      out += fmt::format("google_maps_calls_total{{api=\"{}\",result=\"{}\"}} {}\n", kApis[api],
                         kResults[result], counts_[api][result].load(std::memory_order_relaxed));
    }
  }
  out += "# HELP google_maps_call_seconds_sum Time spent waiting for Google Maps, by API.\n";
  out += "# TYPE google_maps_call_seconds_sum counter\n";
  for (int api = 0; api < 2; ++api) {
    out += fmt::format("google_maps_call_seconds_sum{{api=\"{}\"}} {:.6f}\n", kApis[api],
                       spent_ns_[api].load(std::memory_order_relaxed) / 1e9);
  }
  return out;
}

}  // namespace market::clients
