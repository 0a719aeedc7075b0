#include "handlers/addresses_json.hpp"

#include <boost/json.hpp>

namespace market::handlers {
namespace {

namespace json = boost::json;

// Bytes, four per character of the domain's limits: enough for any valid value, so that the
// domain's own message (in characters) is what a client sees.
constexpr std::size_t kNameBytes = 400;
constexpr std::size_t kLineBytes = 800;
constexpr std::size_t kShortBytes = 80;
constexpr std::size_t kCountryBytes = 16;

json::value OptNumber(const std::optional<double>& value) {
  if (!value) return nullptr;
  return *value;
}

json::value OptText(const std::string& text) {
  if (text.empty()) return nullptr;
  return json::value(text);
}

}  // namespace

domain::ShippingAddress ReadAddress(FieldReader& fields) {
  return domain::ShippingAddress{
      .recipient_name = fields.RequiredString("recipient_name", kNameBytes),
      .line1 = fields.RequiredString("line1", kLineBytes),
      .line2 = fields.OptionalString("line2", kLineBytes).value_or(""),
      .city = fields.RequiredString("city", kNameBytes),
      .region = fields.OptionalString("region", kNameBytes).value_or(""),
      .postal_code = fields.OptionalString("postal_code", kShortBytes).value_or(""),
      .country = fields.RequiredString("country", kCountryBytes),
      .phone = fields.OptionalString("phone", kShortBytes).value_or("")};
}

services::AddressPatch ReadAddressPatch(FieldReader& fields) {
  return services::AddressPatch{
      .recipient_name = fields.OptionalString("recipient_name", kNameBytes),
      .line1 = fields.OptionalString("line1", kLineBytes),
      .line2 = fields.OptionalString("line2", kLineBytes),
      .city = fields.OptionalString("city", kNameBytes),
      .region = fields.OptionalString("region", kNameBytes),
      .postal_code = fields.OptionalString("postal_code", kShortBytes),
      .country = fields.OptionalString("country", kCountryBytes),
      .phone = fields.OptionalString("phone", kShortBytes),
      .is_default = fields.OptionalBool("is_default")};
}

void RejectNonAddressFields(FieldReader& fields, std::initializer_list<std::string_view> also) {
  std::vector<std::string_view> known = {"recipient_name", "line1",       "line2",   "city",
                                         "region",         "postal_code", "country", "phone"};
  known.insert(known.end(), also.begin(), also.end());
  fields.RejectOthers(known);
}

json::object AddressJson(const domain::ShippingAddress& a) {
  return json::object{{"recipient_name", a.recipient_name},
                      {"line1", a.line1},
                      {"line2", a.line2},
                      {"city", a.city},
                      {"region", a.region},
                      {"postal_code", a.postal_code},
                      {"country", a.country},
                      {"phone", a.phone}};
}

json::object SavedAddressJson(const domain::SavedAddress& saved) {
  json::object out = AddressJson(saved.address);
  out["id"] = saved.id.value;
  out["is_default"] = saved.is_default;
  out["validation"] = json::object{{"precision", domain::PrecisionName(saved.check.precision)},
                                   {"latitude", OptNumber(saved.check.latitude)},
                                   {"longitude", OptNumber(saved.check.longitude)},
                                   {"provider", saved.check.provider},
                                   {"place_id", OptText(saved.check.place_id)},
                                   {"validated_at", FormatTime(saved.validated_at)}};
  out["created_at"] = FormatTime(saved.created_at);
  out["updated_at"] = FormatTime(saved.updated_at);
  return out;
}

json::object AddressCheckJson(const domain::AddressCheck& check) {
  json::array problems;
  for (const auto& problem : check.problems)
    problems.push_back(json::object{{"field", problem.field}, {"message", problem.message}});
  return json::object{{"valid", check.ok()},
                      {"address", AddressJson(check.normalized)},
                      {"precision", domain::PrecisionName(check.precision)},
                      {"latitude", OptNumber(check.latitude)},
                      {"longitude", OptNumber(check.longitude)},
                      {"provider", OptText(check.provider)},
                      {"place_id", OptText(check.place_id)},
                      {"problems", std::move(problems)}};
}

}  // namespace market::handlers
