#include "services/addresses/addresses_service.hpp"

#include <algorithm>
#include <cctype>

namespace market::services {
namespace {

constexpr std::size_t kMaxSuggestions = 10;
constexpr std::size_t kMaxQueryBytes = 100;
constexpr std::size_t kMaxSessionBytes = 64;

void Apply(std::string& target, std::optional<std::string>& value) {
  if (value) target = std::move(*value);
}

}  // namespace

AddressesService::AddressesService(AddressesRepository& addresses, Geocoder& geocoder,
                                   RateLimiter& limiter, const Clock& clock,
                                   AddressesOptions options)
    : addresses_(addresses),
      geocoder_(geocoder),
      limiter_(limiter),
      clock_(clock),
      options_(options) {}

Task<Result<domain::AddressCheck>> AddressesService::Checked(const Principal& user,
                                                             const std::string& ip,
                                                             domain::ShippingAddress address) {
  std::vector<FieldError> errors = domain::ValidateAddress(address);
  if (!errors.empty()) co_return ValidationError(std::move(errors));
  if (geocoder_.metered()) {
    if (auto rate = co_await CheckRates(user, ip); !rate.ok()) co_return std::move(rate).error();
  }
  domain::AddressCheck check = co_await geocoder_.Check(address);
  if (!check.ok()) co_return ValidationError(std::move(check.problems));
  co_return check;
}

Task<std::vector<domain::SavedAddress>> AddressesService::List(const Principal& user) {
  co_return co_await addresses_.List(user.user.id);
}

Task<Result<domain::SavedAddress>> AddressesService::Add(const Principal& user,
                                                         domain::ShippingAddress address,
                                                         bool is_default, const std::string& ip) {
  auto check = co_await Checked(user, ip, std::move(address));
  if (!check.ok()) co_return std::move(check).error();
  domain::SavedAddress saved{.user = user.user.id,
                             .address = check->normalized,
                             .is_default = is_default,
                             .check = std::move(*check),
                             .validated_at = clock_.Now()};
  co_return co_await addresses_.Add(user.user.id, saved, domain::kMaxAddressesPerUser);
}

Task<Result<domain::SavedAddress>> AddressesService::Update(const Principal& user,
                                                            domain::AddressId id,
                                                            AddressPatch patch,
                                                            const std::string& ip) {
  std::optional<domain::SavedAddress> saved = co_await addresses_.Find(user.user.id, id);
  if (!saved) co_return MakeError(ErrorCode::kNotFound, "No such address.");
  domain::ShippingAddress address = saved->address;
  Apply(address.recipient_name, patch.recipient_name);
  Apply(address.line1, patch.line1);
  Apply(address.line2, patch.line2);
  Apply(address.city, patch.city);
  Apply(address.region, patch.region);
  Apply(address.postal_code, patch.postal_code);
  Apply(address.country, patch.country);
  Apply(address.phone, patch.phone);
  auto check = co_await Checked(user, ip, std::move(address));
  if (!check.ok()) co_return std::move(check).error();
  saved->address = check->normalized;
  saved->check = std::move(*check);
  saved->validated_at = clock_.Now();
  bool make_default = patch.is_default.value_or(false);
  std::optional<domain::SavedAddress> updated =
      co_await addresses_.Update(user.user.id, *saved, make_default);
  if (!updated) co_return MakeError(ErrorCode::kNotFound, "No such address.");
  co_return std::move(*updated);
}

Task<Result<void>> AddressesService::Remove(const Principal& user, domain::AddressId id) {
  // A named result: g++ 12 miscompiles `!co_await` in a condition (SIGILL at run time).
  bool removed = co_await addresses_.Remove(user.user.id, id);
  if (!removed) co_return MakeError(ErrorCode::kNotFound, "No such address.");
  co_return Ok();
}

Task<Result<domain::ShippingAddress>> AddressesService::Saved(const Principal& user,
                                                              domain::AddressId id,
                                                              const std::string& field) {
  std::optional<domain::SavedAddress> saved = co_await addresses_.Find(user.user.id, id);
  if (!saved) co_return ValidationError({{field, "is not one of your addresses"}});
  co_return std::move(saved->check.normalized);
}

Task<Result<domain::ShippingAddress>> AddressesService::Normalized(const Principal& user,
                                                                   const std::string& ip,
                                                                   domain::ShippingAddress address,
                                                                   const std::string& prefix) {
  auto check = co_await Checked(user, ip, std::move(address));
  if (!check.ok()) co_return WithFieldPrefix(std::move(check).error(), prefix);
  co_return std::move(check->normalized);
}

Task<Result<void>> AddressesService::CheckRates(const Principal& user, const std::string& ip) {
  if (!options_.rate_limits) co_return Ok();
  RateDecision decision = co_await limiter_.Take("geo:user:" + std::to_string(user.user.id.value),
                                                 options_.geo_per_user);
  if (decision.allowed) decision = co_await limiter_.Take("geo:ip:" + ip, options_.geo_per_ip);
  if (decision.allowed) co_return Ok();
  Error error = MakeError(ErrorCode::kRateLimited, "Too many address lookups; try again later.");
  error.retry_after = std::chrono::seconds((decision.retry_after.count() + 999) / 1000);
  co_return error;
}

Task<Result<domain::AddressCheck>> AddressesService::Validate(const Principal& user,
                                                              const std::string& ip,
                                                              domain::ShippingAddress address) {
  if (auto rate = co_await CheckRates(user, ip); !rate.ok()) co_return std::move(rate).error();
  std::vector<FieldError> errors = domain::ValidateAddress(address);
  if (!errors.empty()) {
    co_return domain::AddressCheck{.normalized = std::move(address), .problems = std::move(errors)};
  }
  co_return co_await geocoder_.Check(address);
}

Task<Result<std::vector<PlaceSuggestion>>> AddressesService::Suggest(
    const Principal& user, const std::string& ip, const std::string& query,
    std::optional<std::string> country, const std::string& session) {
  std::vector<FieldError> errors;
  if (query.empty() || query.size() > kMaxQueryBytes)
    errors.push_back({"q", "must be 1 to 100 bytes"});
  if (country) {
    std::transform(country->begin(), country->end(), country->begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (!domain::IsIsoCountry(*country))
      errors.push_back({"country", "must be an ISO 3166-1 alpha-2 code, e.g. US"});
  }
  if (session.size() > kMaxSessionBytes ||
      !std::all_of(session.begin(), session.end(),
                   [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; }))
    errors.push_back({"session", "must be 1 to 64 letters, digits, - or _"});
  if (!errors.empty()) co_return ValidationError(std::move(errors));
  if (auto rate = co_await CheckRates(user, ip); !rate.ok()) co_return std::move(rate).error();
  // Prefixed with the user: one user cannot join another's session.
  std::string token = "u" + std::to_string(user.user.id.value) + "-" + session;
  co_return co_await geocoder_.Suggest(query, country, token, kMaxSuggestions);
}

}  // namespace market::services
