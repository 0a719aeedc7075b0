#include "clients/geocoding/google_geocoder.hpp"

#include <spdlog/spdlog.h>

#include "auth/tokens.hpp"
#include "clients/geocoding/google_response.hpp"
#include "clients/web/curl_fetch.hpp"
#include "common/offload.hpp"
#include "common/pause.hpp"
#include "common/unavailable.hpp"

namespace market::clients {
namespace {

constexpr std::string_view kGeocodePath = "/maps/api/geocode/json";
constexpr std::string_view kAutocompletePath = "/maps/api/place/autocomplete/json";

}  // namespace

GoogleGeocoder::GoogleGeocoder(GoogleOptions options, boost::asio::thread_pool& pool,
                               services::GeocodeCache& cache, const OfflineGeocoder& offline,
                               const PlaceIndex& places, GoogleMetrics& metrics)
    : options_(std::move(options)),
      pool_(pool),
      cache_(cache),
      offline_(offline),
      places_(places),
      metrics_(metrics) {
  std::string::size_type question = options_.base_url.find('?');
  base_ = options_.base_url.substr(0, question);
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  if (question != std::string::npos) base_query_ = options_.base_url.substr(question + 1);
}

template <class Read>
Task<std::optional<std::string>> GoogleGeocoder::Fetch(GoogleApi api, const std::string& query,
                                                       Read read) {
  const std::string path(api == GoogleApi::kGeocode ? kGeocodePath : kAutocompletePath);
  // The key stays out of the cache key (and out of every log line).
  const std::string cache_key = "google:" + auth::Sha256(path + "?" + query);
  if (std::optional<std::string> cached = co_await cache_.Get(cache_key)) {
    metrics_.Count(api, GoogleResult::kCached);
    co_return cached;
  }

  std::string url = base_ + path + "?" + query + "&key=" + UrlEscape(options_.api_key);
  if (!base_query_.empty()) url += "&" + base_query_;
  std::chrono::milliseconds backoff = options_.backoff;
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    // A transport failure (timeout, refused, TLS) is a value here, to be retried like a 5xx.
    auto get = [request = FetchRequest{.url = url, .timeout = options_.timeout}] {
      std::pair<FetchResponse, std::string> out;
      try {
        out.first = CurlFetch(request);
      } catch (const ServiceUnavailable& e) {
        out.second = e.what();
      }
      return out;
    };
    auto started = std::chrono::steady_clock::now();
    std::pair<FetchResponse, std::string> fetched = co_await Offload(pool_, std::move(get));
    FetchResponse& answer = fetched.first;
    const std::string& failure = fetched.second;
    metrics_.Spent(api, std::chrono::steady_clock::now() - started);
    std::string why;
    if (!failure.empty()) {
      why = failure;
    } else if (answer.status >= 500) {
      why = "HTTP " + std::to_string(answer.status);
    } else if (answer.status != 200) {
      spdlog::error("google {}: HTTP {}, not retried", path, answer.status);
      break;
    } else {
      GoogleOutcome outcome = read(answer.body);
      if (outcome == GoogleOutcome::kAnswered) {
        metrics_.Count(api, GoogleResult::kAnswered);
        co_await cache_.Put(cache_key, answer.body, options_.cache_ttl);
        co_return std::move(answer.body);
      }
      if (outcome == GoogleOutcome::kFailed) {
        spdlog::error("google {}: refused the request, not retried", path);
        break;
      }
      why = "asked to retry (OVER_QUERY_LIMIT or UNKNOWN_ERROR)";
    }
    spdlog::warn("google {}: attempt {} of {} failed: {}", path, attempt, options_.attempts, why);
    if (attempt < options_.attempts) {
      metrics_.Count(api, GoogleResult::kRetried);
      co_await Pause(backoff);
      backoff *= 2;
    }
  }
  metrics_.Count(api, GoogleResult::kGaveUp);
  co_return std::nullopt;
}

Task<domain::AddressCheck> GoogleGeocoder::Check(const domain::ShippingAddress& address) {
  domain::ShippingAddress given = address;
  if (!given.postal_code.empty()) {
    given.postal_code = PlaceIndex::NormalizePostalCode(given.country, given.postal_code);
    if (!places_.PostalCodeFits(given.country, given.postal_code))
      co_return offline_.CheckNow(address);
  }
  auto read = [&given](const std::string& body) {
    return ReadGeocodeResponse(body, given).outcome;
  };
  std::optional<std::string> body = co_await Fetch(GoogleApi::kGeocode, GeocodeQuery(given), read);
  if (!body) co_return offline_.CheckNow(address);
  co_return ReadGeocodeResponse(*body, given).check;
}

Task<std::vector<services::PlaceSuggestion>> GoogleGeocoder::Suggest(
    const std::string& query, const std::optional<std::string>& country, const std::string& session,
    std::size_t limit) {
  std::string params = "input=" + UrlEscape(query) + "&types=" + UrlEscape("(cities)") +
                       "&sessiontoken=" + UrlEscape(session);
  if (country) params += "&components=" + UrlEscape("country:" + *country);
  auto read = [limit](const std::string& body) {
    return ReadAutocompleteResponse(body, limit).outcome;
  };
  std::optional<std::string> body = co_await Fetch(GoogleApi::kAutocomplete, params, read);
  if (!body) co_return offline_.SuggestNow(query, country, limit);
  co_return ReadAutocompleteResponse(*body, limit).suggestions;
}

}  // namespace market::clients
