#include "clients/geocoding/google_response.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <boost/json.hpp>
#include "clients/web/curl_fetch.hpp"

namespace market::clients {
namespace {

namespace json = boost::json;

bool HasType(const json::object& object, std::string_view type) {
  const json::value* types = object.if_contains("types");
  if (types == nullptr || !types->is_array()) return false;
  const json::array& list = types->as_array();
  return std::any_of(list.begin(), list.end(), [type](const json::value& t) {
    return t.is_string() && t.as_string() == type;
  });
}

std::string Text(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return {};
  return std::string(value->as_string());
}

// The first component of `type`, long or short name, or empty.
std::string Component(const json::object& result, std::string_view type, bool short_name) {
  const json::value* components = result.if_contains("address_components");
  if (components == nullptr || !components->is_array()) return {};
  for (const json::value& c : components->as_array()) {
    if (c.is_object() && HasType(c.as_object(), type))
      return Text(c.as_object(), short_name ? "short_name" : "long_name");
  }
  return {};
}

GoogleOutcome OutcomeOf(std::string_view status) {
  if (status == "OK" || status == "ZERO_RESULTS") return GoogleOutcome::kAnswered;
  if (status == "OVER_QUERY_LIMIT" || status == "UNKNOWN_ERROR") return GoogleOutcome::kRetry;
  return GoogleOutcome::kFailed;
}

domain::Precision PrecisionOf(const json::object& result, std::string_view location_type) {
  using domain::Precision;
  Precision precision = Precision::kCity;
  if (location_type == "ROOFTOP" || location_type == "RANGE_INTERPOLATED") {
    precision = Precision::kStreet;
  } else if (HasType(result, "postal_code")) {
    precision = Precision::kPostalCode;
  } else if (location_type == "GEOMETRIC_CENTER" &&
             (HasType(result, "street_address") || HasType(result, "route") ||
              HasType(result, "premise"))) {
    precision = Precision::kStreet;
  }
  const json::value* partial = result.if_contains("partial_match");
  if (partial != nullptr && partial->is_bool() && partial->as_bool())
    precision = std::min(precision, Precision::kCity);
  return precision;
}

std::optional<double> Coordinate(const json::object& result, std::string_view axis) {
  const json::value* geometry = result.if_contains("geometry");
  if (geometry == nullptr || !geometry->is_object()) return std::nullopt;
  const json::value* location = geometry->as_object().if_contains("location");
  if (location == nullptr || !location->is_object()) return std::nullopt;
  const json::value* value = location->as_object().if_contains(axis);
  if (value == nullptr || !value->is_number()) return std::nullopt;
  return value->to_number<double>();
}

std::string LocationType(const json::object& result) {
  const json::value* geometry = result.if_contains("geometry");
  if (geometry == nullptr || !geometry->is_object()) return {};
  return Text(geometry->as_object(), "location_type");
}

}  // namespace

std::string GeocodeQuery(const domain::ShippingAddress& a) {
  std::string address;
  for (const std::string* part : {&a.line1, &a.line2, &a.city, &a.region, &a.postal_code}) {
    if (part->empty()) continue;
    if (!address.empty()) address += ", ";
    address += *part;
  }
  return "address=" + UrlEscape(address) + "&components=" + UrlEscape("country:" + a.country);
}

GoogleCheck ReadGeocodeResponse(std::string_view body, const domain::ShippingAddress& address) {
  GoogleCheck out;
  out.check = domain::AddressCheck{.normalized = address, .provider = "google"};
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return out;
  const json::object& root = parsed.as_object();
  out.status = Text(root, "status");
  out.outcome = OutcomeOf(out.status);
  if (out.outcome != GoogleOutcome::kAnswered) return out;

  const json::value* results = root.if_contains("results");
  const json::object* first = nullptr;
  if (results != nullptr && results->is_array() && !results->as_array().empty() &&
      results->as_array().front().is_object())
    first = &results->as_array().front().as_object();
  if (out.status == "ZERO_RESULTS" || first == nullptr) {
    out.check.problems.push_back({"city", fmt::format("was not found in {}", address.country)});
    return out;
  }
  std::string country = Component(*first, "country", true);
  if (!country.empty() && country != address.country) {
    out.check.problems.push_back(
        {"city",
         fmt::format("is not a place in {} (Google found it in {})", address.country, country)});
    return out;
  }
  domain::ShippingAddress& n = out.check.normalized;
  for (std::string_view type : {"locality", "postal_town", "sublocality"}) {
    if (std::string city = Component(*first, type, false); !city.empty()) {
      n.city = std::move(city);
      break;
    }
  }
  if (std::string region = Component(*first, "administrative_area_level_1", true); !region.empty())
    n.region = std::move(region);
  if (std::string postal = Component(*first, "postal_code", false); !postal.empty())
    n.postal_code = std::move(postal);
  out.check.latitude = Coordinate(*first, "lat");
  out.check.longitude = Coordinate(*first, "lng");
  out.check.precision = out.check.latitude && out.check.longitude
                            ? PrecisionOf(*first, LocationType(*first))
                            : domain::Precision::kNone;
  out.check.place_id = Text(*first, "place_id");
  return out;
}

GooglePredictions ReadAutocompleteResponse(std::string_view body, std::size_t limit) {
  GooglePredictions out;
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return out;
  const json::object& root = parsed.as_object();
  out.outcome = OutcomeOf(Text(root, "status"));
  const json::value* predictions = root.if_contains("predictions");
  if (out.outcome != GoogleOutcome::kAnswered || predictions == nullptr || !predictions->is_array())
    return out;
  for (const json::value& p : predictions->as_array()) {
    if (!p.is_object() || out.suggestions.size() >= limit) continue;
    const json::object& prediction = p.as_object();
    services::PlaceSuggestion suggestion{.description = Text(prediction, "description"),
                                         .place_id = Text(prediction, "place_id")};
    if (const json::value* s = prediction.if_contains("structured_formatting");
        s != nullptr && s->is_object())
      suggestion.city = Text(s->as_object(), "main_text");
    out.suggestions.push_back(std::move(suggestion));
  }
  return out;
}

}  // namespace market::clients
