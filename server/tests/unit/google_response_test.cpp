// Reading the Geocoding API's and Places Autocomplete's answers: statuses, precision, the
// normalised address. The bodies follow the examples of Google's Maps Platform description.
#include <gtest/gtest.h>

#include "clients/geocoding/google_response.hpp"

namespace market::clients {
namespace {

using domain::Precision;

domain::ShippingAddress Asked(std::string country = "US") {
  return domain::ShippingAddress{.recipient_name = "Ada",
                                 .line1 = "1600 Amphitheatre Pkwy",
                                 .city = "mountain view",
                                 .country = std::move(country)};
}

std::string Result(std::string_view location_type, std::string_view types,
                   std::string_view extra = "") {
  return std::string(
             R"({"status":"OK","results":[{"address_components":[)"
             R"({"long_name":"Mountain View","short_name":"Mountain View","types":["locality","political"]},)"
             R"({"long_name":"California","short_name":"CA","types":["administrative_area_level_1","political"]},)"
             R"({"long_name":"United States","short_name":"US","types":["country","political"]},)"
             R"({"long_name":"94043","short_name":"94043","types":["postal_code"]}],)"
             R"("geometry":{"location":{"lat":37.4224428,"lng":-122.0842467},"location_type":")") +
         std::string(location_type) + R"("},"place_id":"ChIJj38IfwK6j4ARNcyPDnEGa9g","types":[)" +
         std::string(types) + "]" + std::string(extra) + "}]}";
}

TEST(GoogleResponse, MapsARooftopResultToStreetPrecisionAndNormalisesTheAddress) {
  GoogleCheck read = ReadGeocodeResponse(Result("ROOFTOP", R"("premise")"), Asked());
  EXPECT_EQ(read.outcome, GoogleOutcome::kAnswered);
  const domain::AddressCheck& check = read.check;
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(check.precision, Precision::kStreet);
  EXPECT_EQ(check.provider, "google");
  EXPECT_EQ(check.place_id, "ChIJj38IfwK6j4ARNcyPDnEGa9g");
  EXPECT_EQ(check.normalized.city, "Mountain View");
  EXPECT_EQ(check.normalized.region, "CA");
  EXPECT_EQ(check.normalized.postal_code, "94043");
  EXPECT_EQ(check.normalized.line1, "1600 Amphitheatre Pkwy");  // lines are kept as written
  EXPECT_NEAR(*check.latitude, 37.4224428, 1e-9);
}

TEST(GoogleResponse, MapsLocationTypeAndResultTypesToPrecision) {
  EXPECT_EQ(ReadGeocodeResponse(Result("RANGE_INTERPOLATED", R"("street_address")"), Asked())
                .check.precision,
            Precision::kStreet);
  EXPECT_EQ(ReadGeocodeResponse(Result("GEOMETRIC_CENTER", R"("route")"), Asked()).check.precision,
            Precision::kStreet);
  EXPECT_EQ(ReadGeocodeResponse(Result("APPROXIMATE", R"("postal_code")"), Asked()).check.precision,
            Precision::kPostalCode);
  EXPECT_EQ(ReadGeocodeResponse(Result("APPROXIMATE", R"("locality","political")"), Asked())
                .check.precision,
            Precision::kCity);
}

TEST(GoogleResponse, APartialMatchNeverCountsForMoreThanCity) {
  GoogleCheck read = ReadGeocodeResponse(
      Result("ROOFTOP", R"("street_address")", R"(,"partial_match":true)"), Asked());
  EXPECT_TRUE(read.check.ok());
  EXPECT_EQ(read.check.precision, Precision::kCity);
}

TEST(GoogleResponse, ZeroResultsIsACityProblem) {
  GoogleCheck read = ReadGeocodeResponse(R"({"results":[],"status":"ZERO_RESULTS"})", Asked("GB"));
  EXPECT_EQ(read.outcome, GoogleOutcome::kAnswered);
  ASSERT_EQ(read.check.problems.size(), 1u);
  EXPECT_EQ(read.check.problems[0].field, "city");
  EXPECT_EQ(read.check.problems[0].message, "was not found in GB");
  EXPECT_EQ(read.check.precision, Precision::kNone);
}

TEST(GoogleResponse, AResultInAnotherCountryIsACityProblem) {
  GoogleCheck read = ReadGeocodeResponse(Result("ROOFTOP", R"("premise")"), Asked("DE"));
  ASSERT_EQ(read.check.problems.size(), 1u);
  EXPECT_EQ(read.check.problems[0].field, "city");
  EXPECT_FALSE(read.check.latitude);
}

TEST(GoogleResponse, SortsStatusesIntoAnsweredRetryAndFailed) {
  auto outcome = [](std::string_view body) { return ReadGeocodeResponse(body, Asked()).outcome; };
  EXPECT_EQ(outcome(R"({"results":[],"status":"OVER_QUERY_LIMIT"})"), GoogleOutcome::kRetry);
  EXPECT_EQ(outcome(R"({"results":[],"status":"UNKNOWN_ERROR"})"), GoogleOutcome::kRetry);
  EXPECT_EQ(outcome(R"({"results":[],"status":"REQUEST_DENIED"})"), GoogleOutcome::kFailed);
  EXPECT_EQ(outcome(R"({"results":[],"status":"INVALID_REQUEST"})"), GoogleOutcome::kFailed);
  EXPECT_EQ(outcome("<html>"), GoogleOutcome::kFailed);
  EXPECT_EQ(outcome(R"([1,2])"), GoogleOutcome::kFailed);
  EXPECT_EQ(outcome(R"({"status":"OK","results":[{"geometry":"odd"}]})"), GoogleOutcome::kAnswered);
}

TEST(GoogleResponse, ReadsAutocompletePredictionsUpToTheLimit) {
  GooglePredictions read = ReadAutocompleteResponse(
      R"({"status":"OK","predictions":[)"
      R"({"description":"Paris, France","place_id":"p1","structured_formatting":{"main_text":"Paris"}},)"
      R"({"description":"Paris, TX, USA","place_id":"p2","structured_formatting":{"main_text":"Paris"}}]})",
      1);
  EXPECT_EQ(read.outcome, GoogleOutcome::kAnswered);
  ASSERT_EQ(read.suggestions.size(), 1u);
  EXPECT_EQ(read.suggestions[0].description, "Paris, France");
  EXPECT_EQ(read.suggestions[0].city, "Paris");
  EXPECT_EQ(read.suggestions[0].place_id, "p1");
  EXPECT_TRUE(ReadAutocompleteResponse(R"({"status":"ZERO_RESULTS","predictions":[]})", 5)
                  .suggestions.empty());
}

TEST(GoogleResponse, BuildsAnEncodedQueryWithoutTheKey) {
  domain::ShippingAddress a = Asked();
  a.postal_code = "94043";
  EXPECT_EQ(GeocodeQuery(a),
            "address=1600%20Amphitheatre%20Pkwy%2C%20mountain%20view%2C%2094043"
            "&components=country%3AUS");
}

}  // namespace
}  // namespace market::clients
