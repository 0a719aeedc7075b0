#pragma once

#include "clients/geocoding/place_index.hpp"
#include "services/addresses/geocoder.hpp"

namespace market::clients {

// Checks addresses against the data shipped with the project: the country's postal code format
// and the city (accent- and case-insensitive, a whole-word prefix or a few edits away), answered
// with the city's coordinates and precision `city`. It knows no streets, so it never claims more.
class OfflineGeocoder final : public services::Geocoder {
 public:
  explicit OfflineGeocoder(const PlaceIndex& index) : index_(index) {}

  // The same as Check and Suggest, without a coroutine (the google adapter falls back on them).
  domain::AddressCheck CheckNow(const domain::ShippingAddress& address) const;
  std::vector<services::PlaceSuggestion> SuggestNow(const std::string& query,
                                                    const std::optional<std::string>& country,
                                                    std::size_t limit) const;

  Task<domain::AddressCheck> Check(const domain::ShippingAddress& address) override;
  Task<std::vector<services::PlaceSuggestion>> Suggest(const std::string& query,
                                                       const std::optional<std::string>& country,
                                                       const std::string& session,
                                                       std::size_t limit) override;

 private:
  const PlaceIndex& index_;
};

// "geonames:<id>", the place id offline answers carry.
std::string OfflinePlaceId(const Place& place);

}  // namespace market::clients
