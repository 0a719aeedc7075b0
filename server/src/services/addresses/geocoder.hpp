#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/task.hpp"
#include "domain/addresses/address.hpp"

namespace market::services {

// A place offered while someone types an address.
struct PlaceSuggestion {
  std::string description;  // e.g. "São Paulo, BR"
  std::string city;
  std::string region;
  std::string country;
  std::string postal_code;  // empty when the suggestion is a city
  std::string place_id;
};

// Checks and places postal addresses. Implementations: offline (data shipped with the project)
// and google (the Geocoding and Places APIs, falling back to offline).
class Geocoder {
 public:
  virtual ~Geocoder() = default;

  // `address` has passed domain::ValidateAddress. The answer's problems are field errors on the
  // address's own field names (postal_code, city, …); they never throw for bad input.
  virtual Task<domain::AddressCheck> Check(const domain::ShippingAddress& address) = 0;
  // Whether each Check costs quota or money at a provider (Google): then every check, wherever
  // it comes from (the address book, checkout), is rate-limited per user and IP.
  virtual bool metered() const { return false; }
  // Up to `limit` places whose name starts like `query`, in `country` when it is set, the most
  // populous first. `session` groups the requests of one form (Places session tokens).
  virtual Task<std::vector<PlaceSuggestion>> Suggest(const std::string& query,
                                                     const std::optional<std::string>& country,
                                                     const std::string& session,
                                                     std::size_t limit) = 0;
};

}  // namespace market::services
