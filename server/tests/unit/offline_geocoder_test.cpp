// The offline geocoder: the place index on a small fixture, and the real data shipped with the
// project (data/geo/build, made by scripts/setup) for addresses in six countries.
#include <gtest/gtest.h>

#include <sstream>

#include "clients/geocoding/offline_geocoder.hpp"
#include "geo_support.hpp"

namespace market::clients {
namespace {

using domain::AddressCheck;
using domain::Precision;
using domain::ShippingAddress;

std::vector<std::string> Fields(const AddressCheck& check) {
  std::vector<std::string> fields;
  for (const auto& p : check.problems) fields.push_back(p.field);
  return fields;
}

// ---- The index on a fixture ----

PlaceIndex Fixture() {
  std::istringstream places(
      "1\tUS\tSpringfield\tIL\t116565\t3980172\t-8964371\n"
      "2\tUS\tSpringfield\tMO\t166810\t3721533\t-9329824\n"
      "3\tUS\tNew York City\tNY\t8175133\t4071427\t-7400597\n"
      "4\tBR\tSão Paulo\t27\t10021295\t-2354750\t-4663611\n"
      "5\tCA\tToronto\t08\t2600000\t4370011\t-7941630\n"
      "6\tAU\tToronto\t02\t5670\t-3301667\t15160000\n");
  std::istringstream postal(
      "US\t^([0-9]{5})(?:-([0-9]{4}))?$\t\nCA\t^[A-Z][0-9][A-Z] [0-9][A-Z][0-9]$\ti\n");
  return PlaceIndex::Load(places, postal);
}

TEST(PlaceIndex, PrefersThePlaceInTheRegionGivenThenTheMostPopulous) {
  PlaceIndex index = Fixture();
  EXPECT_EQ(index.Find("US", "springfield", "il").place->geonames_id, 1);
  EXPECT_EQ(index.Find("US", "Springfield", "").place->geonames_id, 2);
  EXPECT_EQ(index.Find("US", "Springfield", "").kind, MatchKind::kExact);
}

TEST(PlaceIndex, TakesAWholeWordPrefixAndCloseSpellings) {
  PlaceIndex index = Fixture();
  PlaceMatch new_york = index.Find("US", "New York", "");
  EXPECT_EQ(new_york.kind, MatchKind::kPrefix);
  EXPECT_EQ(new_york.place->name, "New York City");
  PlaceMatch sao_paulo = index.Find("BR", "Sao Paolo", "");
  EXPECT_EQ(sao_paulo.kind, MatchKind::kClose);
  EXPECT_EQ(sao_paulo.place->name, "São Paulo");
  EXPECT_EQ(index.Find("US", "New", "").kind, MatchKind::kNotFound);  // not a whole name
}

TEST(PlaceIndex, NamesTheMostPopulousPlaceOfThatNameElsewhere) {
  PlaceIndex index = Fixture();  // the match points into it
  PlaceMatch match = index.Find("GB", "Toronto", "");
  EXPECT_EQ(match.kind, MatchKind::kNotFound);
  ASSERT_NE(match.elsewhere, nullptr);
  EXPECT_EQ(match.elsewhere->country, "CA");
}

TEST(PlaceIndex, ChecksPostalCodesOnlyWhereTheCountryHasAFormat) {
  PlaceIndex index = Fixture();
  EXPECT_TRUE(index.PostalCodeFits("US", "62701"));
  EXPECT_TRUE(index.PostalCodeFits("US", "62701-1234"));
  EXPECT_FALSE(index.PostalCodeFits("US", "6270"));
  EXPECT_TRUE(index.PostalCodeFits("CA", "k1a 0b1"));  // a case-insensitive format
  EXPECT_TRUE(index.PostalCodeFits("AE", "anything"));
}

TEST(PlaceIndex, NormalisesPostalCodesToTheirWrittenForm) {
  EXPECT_EQ(PlaceIndex::NormalizePostalCode("GB", "sw1a1aa"), "SW1A 1AA");
  EXPECT_EQ(PlaceIndex::NormalizePostalCode("GB", "sw1a  1aa"), "SW1A 1AA");
  EXPECT_EQ(PlaceIndex::NormalizePostalCode("CA", "k1a0b1"), "K1A 0B1");
  EXPECT_EQ(PlaceIndex::NormalizePostalCode("JP", "1000001"), "100-0001");
  EXPECT_EQ(PlaceIndex::NormalizePostalCode("BR", "01001000"), "01001-000");
  EXPECT_EQ(PlaceIndex::NormalizePostalCode("DE", " 10115 "), "10115");
}

TEST(PlaceIndex, SuggestsByPrefixTheMostPopulousFirst) {
  PlaceIndex index = Fixture();
  auto all = index.StartingWith("tor", std::nullopt, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->country, "CA");
  auto in_au = index.StartingWith("TOR", std::string("AU"), 10);
  ASSERT_EQ(in_au.size(), 1u);
  EXPECT_EQ(in_au[0]->geonames_id, 6);
  EXPECT_TRUE(index.StartingWith("", std::nullopt, 10).empty());
  EXPECT_EQ(index.StartingWith("s", std::nullopt, 1).size(), 1u);
}

TEST(PlaceIndex, RefusesAMalformedDataFile) {
  std::istringstream places("1\tUS\tnot enough columns\n");
  std::istringstream postal;
  EXPECT_THROW(PlaceIndex::Load(places, postal), std::runtime_error);
}

// ---- The real data ----

class OfflineGeocoderTest : public ::testing::Test {
 protected:
  AddressCheck Check(std::string city, std::string postal_code, std::string country,
                     std::string region = "") {
    return geocoder_.CheckNow(ShippingAddress{.recipient_name = "Ada",
                                              .line1 = "1 Main Street",
                                              .city = std::move(city),
                                              .region = std::move(region),
                                              .postal_code = std::move(postal_code),
                                              .country = std::move(country)});
  }

  OfflineGeocoder geocoder_{RealPlaces()};
};

struct Expected {
  const char* city;
  const char* postal_code;
  const char* country;
  const char* normalized_city;
  const char* normalized_postal_code;
  double latitude;
  double longitude;
};

TEST_F(OfflineGeocoderTest, NormalisesACorrectAddressInEachCountryToItsCity) {
  for (const Expected& e : {
           Expected{"springfield", "62701", "US", "Springfield", "62701", 39.80, -89.64},
           Expected{"MANCHESTER", "m1 1ae", "GB", "Manchester", "M1 1AE", 53.48, -2.24},
           Expected{"Koln", "50667", "DE", "Köln", "50667", 50.93, 6.95},
           Expected{"sao paulo", "01001000", "BR", "São Paulo", "01001-000", -23.55, -46.64},
           Expected{"Osaka", "530-0001", "JP", "Osaka", "530-0001", 34.69, 135.50},
           Expected{"Montreal", "h2y 1c6", "CA", "Montréal", "H2Y 1C6", 45.51, -73.59},
       }) {
    AddressCheck check =
        Check(e.city, e.postal_code, e.country, e.country == std::string("US") ? "IL" : "");
    ASSERT_TRUE(check.ok()) << e.city << ": " << check.problems.front().message;
    EXPECT_EQ(check.normalized.city, e.normalized_city);
    EXPECT_EQ(check.normalized.postal_code, e.normalized_postal_code);
    EXPECT_EQ(check.precision, Precision::kCity) << e.city;
    EXPECT_EQ(check.provider, "offline");
    EXPECT_TRUE(check.place_id.starts_with("geonames:")) << check.place_id;
    ASSERT_TRUE(check.latitude && check.longitude);
    EXPECT_NEAR(*check.latitude, e.latitude, 0.05) << e.city;
    EXPECT_NEAR(*check.longitude, e.longitude, 0.05) << e.city;
  }
}

TEST_F(OfflineGeocoderTest, CorrectsAMisspeltCity) {
  AddressCheck check = Check("Sao Paolo", "", "BR");
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check.normalized.city, "São Paulo");
  EXPECT_EQ(check.place_id, "geonames:3448439");
}

TEST_F(OfflineGeocoderTest, AWrongPostalFormatIsAPostalCodeError) {
  for (auto [postal_code, country, city] :
       {std::tuple{"1234", "US", "Chicago"}, std::tuple{"123456", "DE", "Berlin"},
        std::tuple{"ABC", "GB", "London"}, std::tuple{"12345", "CA", "Toronto"},
        std::tuple{"1234567890", "JP", "Tokyo"}}) {
    AddressCheck check = Check(city, postal_code, country);
    EXPECT_EQ(Fields(check), std::vector<std::string>{"postal_code"}) << postal_code;
    EXPECT_EQ(check.problems.front().message,
              std::string("is not a valid postal code in ") + country);
  }
}

TEST_F(OfflineGeocoderTest, ACityInAnotherCountryIsACityErrorNamingThatCountry) {
  AddressCheck check = Check("Toronto", "", "DE");
  EXPECT_EQ(Fields(check), std::vector<std::string>{"city"});
  EXPECT_EQ(check.problems.front().message, "is not a place in DE (there is a Toronto in CA)");
  EXPECT_EQ(check.precision, Precision::kNone);
  EXPECT_FALSE(check.latitude);
}

TEST_F(OfflineGeocoderTest, AMadeUpCityIsACityError) {
  AddressCheck check = Check("Qwxzplorbville", "10001", "US");
  EXPECT_EQ(Fields(check), std::vector<std::string>{"city"});
  EXPECT_EQ(check.problems.front().message, "was not found in US");
}

TEST_F(OfflineGeocoderTest, NeverClaimsMoreThanCityPrecision) {
  AddressCheck check = Check("London", "SW1Y 4JH", "GB");
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check.precision, Precision::kCity);
  EXPECT_EQ(check.normalized.line1, "1 Main Street");  // streets are not checked or changed
}

}  // namespace
}  // namespace market::clients
