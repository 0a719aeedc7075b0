#include "domain/addresses/address.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/text.hpp"
#include "domain/users/user.hpp"

namespace market::domain {
namespace {

// ISO 3166-1 alpha-2, the officially assigned codes (249), sorted.
constexpr std::array<std::string_view, 249> kCountries = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"};

void Field(std::vector<FieldError>& errors, std::string& value, std::string_view name,
           bool required, std::size_t max_length) {
  value = std::string(Trim(value));
  auto length = Utf8Length(value);
  if (!length) {
    errors.push_back({std::string(name), "must be valid UTF-8"});
  } else if (required && *length == 0) {
    errors.push_back({std::string(name), "is required"});
  } else if (*length > max_length) {
    errors.push_back(
        {std::string(name), "must be at most " + std::to_string(max_length) + " characters"});
  } else if (std::any_of(value.begin(), value.end(),
                         [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    errors.push_back({std::string(name), "must be one line of text"});
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "+", a country code that does not start with 0, 7 to 15 digits in all (ITU-T E.164).
bool IsE164(std::string_view phone) {
  if (phone.size() < 8 || phone.size() > 16 || phone[0] != '+' || phone[1] == '0') return false;
  return std::all_of(phone.begin() + 1, phone.end(), IsDigit);
}

constexpr Precision kPrecisions[] = {Precision::kNone, Precision::kCity, Precision::kPostalCode,
                                     Precision::kStreet};

}  // namespace

bool IsIsoCountry(std::string_view code) {
  return std::binary_search(kCountries.begin(), kCountries.end(), code);
}

std::vector<FieldError> ValidateAddress(ShippingAddress& a) {
  std::vector<FieldError> errors;
  Field(errors, a.recipient_name, "recipient_name", true, 100);
  Field(errors, a.line1, "line1", true, 200);
  Field(errors, a.line2, "line2", false, 200);
  Field(errors, a.city, "city", true, 100);
  Field(errors, a.region, "region", false, 100);
  Field(errors, a.postal_code, "postal_code", false, 20);
  Field(errors, a.phone, "phone", false, 20);
  a.country = std::string(Trim(a.country));
  std::transform(a.country.begin(), a.country.end(), a.country.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (a.country.size() != 2 ||
      !std::all_of(a.country.begin(), a.country.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    errors.push_back({"country", "must be an ISO 3166-1 alpha-2 code, e.g. US"});
  else if (!IsIsoCountry(a.country))
    errors.push_back({"country", "is not a country code assigned by ISO 3166-1"});
  if (!a.phone.empty() && !IsE164(a.phone))
    errors.push_back({"phone", "must be in E.164 form, e.g. +14155550123"});
  return errors;
}

std::string_view PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kNone:
      return "none";
    case Precision::kCity:
      return "city";
    case Precision::kPostalCode:
      return "postal_code";
    case Precision::kStreet:
      return "street";
  }
  return "none";
}

std::optional<Precision> ParsePrecision(std::string_view text) {
  for (Precision p : kPrecisions) {
    if (PrecisionName(p) == text) return p;
  }
  return std::nullopt;
}

}  // namespace market::domain
