#include "clients/geocoding/offline_geocoder.hpp"

#include <fmt/format.h>

namespace market::clients {

std::string OfflinePlaceId(const Place& place) {
  return "geonames:" + std::to_string(place.geonames_id);
}

domain::AddressCheck OfflineGeocoder::CheckNow(const domain::ShippingAddress& address) const {
  domain::AddressCheck check{.normalized = address, .provider = "offline"};
  domain::ShippingAddress& out = check.normalized;
  if (!out.postal_code.empty()) {
    out.postal_code = PlaceIndex::NormalizePostalCode(out.country, out.postal_code);
    if (!index_.PostalCodeFits(out.country, out.postal_code))
      check.problems.push_back(
          {"postal_code", fmt::format("is not a valid postal code in {}", out.country)});
  }
  PlaceMatch match = index_.Find(out.country, out.city, out.region);
  if (match.place == nullptr) {
    if (match.elsewhere != nullptr) {
      check.problems.push_back(
          {"city", fmt::format("is not a place in {} (there is a {} in {})", out.country,
                               match.elsewhere->name, match.elsewhere->country)});
    } else {
      check.problems.push_back({"city", fmt::format("was not found in {}", out.country)});
    }
    return check;
  }
  const Place& place = *match.place;
  out.city = place.name;
  check.latitude = place.latitude_e5 / 1e5;
  check.longitude = place.longitude_e5 / 1e5;
  check.precision = domain::Precision::kCity;
  check.place_id = OfflinePlaceId(place);
  return check;
}

Task<domain::AddressCheck> OfflineGeocoder::Check(const domain::ShippingAddress& address) {
  co_return CheckNow(address);
}

std::vector<services::PlaceSuggestion> OfflineGeocoder::SuggestNow(
    const std::string& query, const std::optional<std::string>& country, std::size_t limit) const {
  std::vector<services::PlaceSuggestion> suggestions;
  for (const Place* place : index_.StartingWith(query, country, limit)) {
    std::string region = place->country == "US" ? place->admin : std::string();
    std::string description = region.empty()
                                  ? fmt::format("{}, {}", place->name, place->country)
                                  : fmt::format("{}, {}, {}", place->name, region, place->country);
    suggestions.push_back(services::PlaceSuggestion{.description = std::move(description),
                                                    .city = place->name,
                                                    .region = std::move(region),
                                                    .country = place->country,
                                                    .place_id = OfflinePlaceId(*place)});
  }
  return suggestions;
}

Task<std::vector<services::PlaceSuggestion>> OfflineGeocoder::Suggest(
    const std::string& query, const std::optional<std::string>& country, const std::string&,
    std::size_t limit) {
  co_return SuggestNow(query, country, limit);
}

}  // namespace market::clients
