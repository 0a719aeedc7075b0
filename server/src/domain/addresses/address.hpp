#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"

namespace market::domain {

using AddressId = StrongId<struct AddressTag>;

// A postal address as a person writes it; also the snapshot an order keeps.
struct ShippingAddress {
  std::string recipient_name;
  std::string line1;
  std::string line2;
  std::string city;
  std::string region;
  std::string postal_code;
  std::string country;  // ISO 3166-1 alpha-2, upper case
  std::string phone;    // E.164, or empty

  bool operator==(const ShippingAddress&) const = default;
};

// Trims every field in place and upper-cases the country; every bad field is reported: required
// fields, lengths, one line of valid UTF-8, a country that ISO 3166-1 assigns, an E.164 phone.
std::vector<FieldError> ValidateAddress(ShippingAddress& address);

bool IsIsoCountry(std::string_view code);

inline constexpr int kMaxAddressesPerUser = 20;

// How exactly a geocoder placed an address. Offline data knows cities only.
enum class Precision { kNone, kCity, kPostalCode, kStreet };
std::string_view PrecisionName(Precision precision);
std::optional<Precision> ParsePrecision(std::string_view text);

// What a geocoder made of an address: its normalised form, where it is and how exactly, or the
// field problems that stop it from being used.
struct AddressCheck {
  ShippingAddress normalized;
  std::optional<double> latitude;
  std::optional<double> longitude;
  Precision precision = Precision::kNone;
  std::string provider;  // offline | google
  std::string place_id;  // the provider's id of the place found, or empty
  std::vector<FieldError> problems;

  bool ok() const { return problems.empty(); }
};

// An entry of a user's address book, with the check it passed when last written.
struct SavedAddress {
  AddressId id;
  UserId user;
  ShippingAddress address;
  bool is_default = false;
  AddressCheck check;
  TimePoint validated_at;
  TimePoint created_at;
  TimePoint updated_at;
};

}  // namespace market::domain
