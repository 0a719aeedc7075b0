#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/thread_pool.hpp>

#include "clients/geocoding/google_metrics.hpp"
#include "clients/geocoding/offline_geocoder.hpp"
#include "services/addresses/geocode_cache.hpp"
#include "services/addresses/geocoder.hpp"

namespace market::clients {

struct GoogleOptions {
  std::string api_key;  // required: without one this geocoder is never built
  // Only tests point it elsewhere (the stand-in, or a server of their own). Anything after a '?'
  // is sent with every request (the stand-in's __example=…).
  std::string base_url = "https://maps.googleapis.com";
  std::chrono::milliseconds timeout{3000};  // per attempt
  int attempts = 3;
  std::chrono::milliseconds backoff{250};  // doubled after each failed attempt
  std::chrono::seconds cache_ttl{std::chrono::hours(24)};
};

// The Geocoding API (checks) and Places Autocomplete (suggestions) over HTTPS with libcurl, on a
// small pool of their own so that io threads never block. Answers are cached for a day. 5xx,
// timeouts, OVER_QUERY_LIMIT and UNKNOWN_ERROR are retried with backoff; when Google still does
// not answer (or refuses the request), the offline geocoder answers instead, and says so: its
// provider is `offline` and its precision `city` at best. Postal code formats are checked offline
// first: Google forgives them.
class GoogleGeocoder final : public services::Geocoder {
 public:
  GoogleGeocoder(GoogleOptions options, boost::asio::thread_pool& pool,
                 services::GeocodeCache& cache, const OfflineGeocoder& offline,
                 const PlaceIndex& places, GoogleMetrics& metrics);

  Task<domain::AddressCheck> Check(const domain::ShippingAddress& address) override;
  bool metered() const override { return true; }
  Task<std::vector<services::PlaceSuggestion>> Suggest(const std::string& query,
                                                       const std::optional<std::string>& country,
                                                       const std::string& session,
                                                       std::size_t limit) override;

 private:
  // The body of an answered request (from the cache, or fetched and cached), or nothing when
  // every attempt failed. `read` sorts an answer: kRetry bodies are tried again.
  template <class Read>
  Task<std::optional<std::string>> Fetch(GoogleApi api, const std::string& query, Read read);

  GoogleOptions options_;
  std::string base_;
  std::string base_query_;
  boost::asio::thread_pool& pool_;
  services::GeocodeCache& cache_;
  const OfflineGeocoder& offline_;
  const PlaceIndex& places_;
  GoogleMetrics& metrics_;
};

}  // namespace market::clients
