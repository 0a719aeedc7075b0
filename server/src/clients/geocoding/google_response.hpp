#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/addresses/address.hpp"
#include "services/addresses/geocoder.hpp"

namespace market::clients {

// What a Google answer calls for.
enum class GoogleOutcome {
  kAnswered,  // OK or ZERO_RESULTS: a result to use (and to cache)
  kRetry,     // OVER_QUERY_LIMIT, UNKNOWN_ERROR: try again after a pause
  kFailed,    // REQUEST_DENIED, INVALID_REQUEST, anything unreadable: fall back
};

struct GoogleCheck {
  GoogleOutcome outcome = GoogleOutcome::kFailed;
  domain::AddressCheck check;
  std::string status;  // Google's, for the log
};

// The Geocoding API's query for an address, without the key: address=<the lines, city, region
// and postal code>&components=country:<CC>, percent-encoded.
std::string GeocodeQuery(const domain::ShippingAddress& address);

// Maps a Geocoding API answer for `address` (the first result) to our check:
// - precision from location_type and the result's types: ROOFTOP and RANGE_INTERPOLATED are
//   `street`; otherwise a postal_code result is `postal_code`, a street or premise `street` and
//   anything larger `city`; a partial_match never counts for more than `city`;
// - the normalised city (locality, else postal_town, else sublocality), region (first-level
//   division, short name), postal code and country from address_components; the lines are kept
//   as written;
// - ZERO_RESULTS, or a result in another country, is a problem of `city`.
GoogleCheck ReadGeocodeResponse(std::string_view body, const domain::ShippingAddress& address);

struct GooglePredictions {
  GoogleOutcome outcome = GoogleOutcome::kFailed;
  std::vector<services::PlaceSuggestion> suggestions;
};

// Places Autocomplete predictions (ZERO_RESULTS is an empty answer).
GooglePredictions ReadAutocompleteResponse(std::string_view body, std::size_t limit);

}  // namespace market::clients
