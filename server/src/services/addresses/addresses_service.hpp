#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/addresses/address.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/addresses/addresses_repository.hpp"
#include "services/addresses/geocoder.hpp"
#include "services/rate_limiter.hpp"

namespace market::services {

struct AddressesOptions {
  bool rate_limits = true;
  // For the geo lookups of the address form, each request takes from both buckets.
  RateRule geo_per_user{120, std::chrono::milliseconds(500)};
  RateRule geo_per_ip{600, std::chrono::milliseconds(100)};
};

// A change to an address: the fields given replace the stored ones.
struct AddressPatch {
  std::optional<std::string> recipient_name, line1, line2, city, region, postal_code, country,
      phone;
  std::optional<bool> is_default;
};

// The signed-in user's address book, and the address checks behind it and behind checkout:
// every address stored or shipped to has passed the domain rules and the geocoder, and is kept in
// the geocoder's normalised form.
class AddressesService {
 public:
  AddressesService(AddressesRepository& addresses, Geocoder& geocoder, RateLimiter& limiter,
                   const Clock& clock, AddressesOptions options);

  Task<std::vector<domain::SavedAddress>> List(const Principal& user);
  // `ip` is the caller's, for the rate limits of a metered geocoder.
  Task<Result<domain::SavedAddress>> Add(const Principal& user, domain::ShippingAddress address,
                                         bool is_default, const std::string& ip = "");
  // kNotFound unless the address is the user's; nothing is changed then.
  Task<Result<domain::SavedAddress>> Update(const Principal& user, domain::AddressId id,
                                            AddressPatch patch, const std::string& ip = "");
  Task<Result<void>> Remove(const Principal& user, domain::AddressId id);

  // The normalised form of one of the user's saved addresses, or a field error on `field`.
  Task<Result<domain::ShippingAddress>> Saved(const Principal& user, domain::AddressId id,
                                              const std::string& field);

  // An address written at checkout, checked like the address book's: its normalised form, or
  // every problem as a field error under `prefix` (such as "shipping_address.").
  Task<Result<domain::ShippingAddress>> Normalized(const Principal& user, const std::string& ip,
                                                   domain::ShippingAddress address,
                                                   const std::string& prefix);

  // For the address form: what the geocoder makes of an address, problems included.
  Task<Result<domain::AddressCheck>> Validate(const Principal& user, const std::string& ip,
                                              domain::ShippingAddress address);
  // `session` names one address form (Places bills a form's requests together): 1 to 64 letters,
  // digits, '-' or '_', or empty for one per user.
  Task<Result<std::vector<PlaceSuggestion>>> Suggest(const Principal& user, const std::string& ip,
                                                     const std::string& query,
                                                     std::optional<std::string> country,
                                                     const std::string& session = "");

 private:
  // The domain rules, then the geocoder (rate-limited when it is metered): the check, or every
  // problem as field errors.
  Task<Result<domain::AddressCheck>> Checked(const Principal& user, const std::string& ip,
                                             domain::ShippingAddress address);
  Task<Result<void>> CheckRates(const Principal& user, const std::string& ip);

  AddressesRepository& addresses_;
  Geocoder& geocoder_;
  RateLimiter& limiter_;
  const Clock& clock_;
  AddressesOptions options_;
};

}  // namespace market::services
