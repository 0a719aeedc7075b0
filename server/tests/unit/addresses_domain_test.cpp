// The address rules and the place-name matching they rest on: pure functions.
#include <gtest/gtest.h>

#include "domain/addresses/address.hpp"
#include "domain/addresses/place_names.hpp"

namespace market::domain {
namespace {

ShippingAddress Valid() {
  return ShippingAddress{.recipient_name = " Ada Lovelace ",
                         .line1 = "12 St James's Square",
                         .city = "London",
                         .postal_code = "SW1Y 4JH",
                         .country = " gb ",
                         .phone = "+442079460000"};
}

std::vector<std::string> Fields(const std::vector<FieldError>& errors) {
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  return fields;
}

TEST(ValidateAddress, TrimsAndUpperCasesAValidAddress) {
  ShippingAddress a = Valid();
  EXPECT_TRUE(ValidateAddress(a).empty());
  EXPECT_EQ(a.recipient_name, "Ada Lovelace");
  EXPECT_EQ(a.country, "GB");
}

TEST(ValidateAddress, NamesEveryMissingRequiredField) {
  ShippingAddress a{.line2 = "flat 2", .country = "US"};
  EXPECT_EQ(Fields(ValidateAddress(a)),
            (std::vector<std::string>{"recipient_name", "line1", "city"}));
}

TEST(ValidateAddress, RefusesOverlongValuesCountingCharactersNotBytes) {
  ShippingAddress a = Valid();
  a.city = std::string(50, 'x');
  for (int i = 0; i < 50; ++i) a.city += "é";  // 100 characters, 150 bytes
  EXPECT_TRUE(ValidateAddress(a).empty());
  a.city += "é";
  a.recipient_name = std::string(101, 'n');
  a.postal_code = std::string(21, '1');
  EXPECT_EQ(Fields(ValidateAddress(a)),
            (std::vector<std::string>{"recipient_name", "city", "postal_code"}));
}

TEST(ValidateAddress, RefusesCountryCodesIsoDoesNotAssign) {
  for (const char* code : {"XX", "UK", "EU", "ZZ", "GBR", "1A", ""}) {
    ShippingAddress a = Valid();
    a.country = code;
    EXPECT_EQ(Fields(ValidateAddress(a)), std::vector<std::string>{"country"}) << code;
  }
  for (const char* code : {"us", "GB", "de", "BR", "JP", "CA", "AX", "ZW"}) {
    ShippingAddress a = Valid();
    a.country = code;
    EXPECT_TRUE(ValidateAddress(a).empty()) << code;
  }
}

TEST(ValidateAddress, AcceptsOnlyE164Phones) {
  for (const char* phone : {"14155550123", "+1 415 555 0123", "+12", "+0123456789",
                            "+1234567890123456", "+1-415-555-0123"}) {
    ShippingAddress a = Valid();
    a.phone = phone;
    EXPECT_EQ(Fields(ValidateAddress(a)), std::vector<std::string>{"phone"}) << phone;
  }
  for (const char* phone : {"", "+14155550123", "+551199998888", "+123456789012345"}) {
    ShippingAddress a = Valid();
    a.phone = phone;
    EXPECT_TRUE(ValidateAddress(a).empty()) << phone;
  }
}

TEST(ValidateAddress, RefusesControlCharactersAndInvalidUtf8) {
  ShippingAddress a = Valid();
  a.line1 = "two\nlines";
  a.line2 = "\xff\xfe";
  EXPECT_EQ(Fields(ValidateAddress(a)), (std::vector<std::string>{"line1", "line2"}));
}

TEST(Precision, NamesRoundTrip) {
  for (Precision p :
       {Precision::kNone, Precision::kCity, Precision::kPostalCode, Precision::kStreet})
    EXPECT_EQ(ParsePrecision(PrecisionName(p)), p);
  EXPECT_FALSE(ParsePrecision("rooftop"));
}

TEST(FoldPlaceName, IgnoresCaseAccentsAndPunctuation) {
  EXPECT_EQ(FoldPlaceName("São Paulo"), "sao paulo");
  EXPECT_EQ(FoldPlaceName("  SAO   PAULO "), "sao paulo");
  EXPECT_EQ(FoldPlaceName("Köln"), "koln");
  EXPECT_EQ(FoldPlaceName("Straße"), "strasse");
  EXPECT_EQ(FoldPlaceName("Montréal"), "montreal");
  EXPECT_EQ(FoldPlaceName("Łódź"), "lodz");
  EXPECT_EQ(FoldPlaceName("Hồ Chí Minh"), "ho chi minh");
  EXPECT_EQ(FoldPlaceName("St. John's"), "st john s");
  EXPECT_EQ(FoldPlaceName("Frankfurt (Oder)"), "frankfurt oder");
}

TEST(FoldPlaceName, KeepsOtherScriptsAndDropsInvalidBytes) {
  EXPECT_EQ(FoldPlaceName("東京"), "東京");
  EXPECT_EQ(FoldPlaceName("Tok\xffyo"), "tokyo");
  EXPECT_EQ(FoldPlaceName("\xe6\x9d"), "");
}

TEST(EditDistance, CountsEditsAndSwapsUpToTheLimit) {
  EXPECT_EQ(EditDistance("sao paolo", "sao paulo", 2), 1u);
  EXPECT_EQ(EditDistance("lodnon", "london", 2), 1u);  // a swap of neighbours
  EXPECT_EQ(EditDistance("berln", "berlin", 2), 1u);
  EXPECT_EQ(EditDistance("kitten", "sitting", 5), 3u);
  EXPECT_EQ(EditDistance("abc", "xyzxyzxyz", 2), 3u);  // above the limit: limit + 1
  EXPECT_EQ(EditDistance("same", "same", 0), 0u);
}

TEST(AllowedEdits, ForgivesMoreInLongerNames) {
  EXPECT_EQ(AllowedEdits(3), 0u);
  EXPECT_EQ(AllowedEdits(6), 1u);
  EXPECT_EQ(AllowedEdits(9), 2u);
  EXPECT_EQ(AllowedEdits(20), 3u);
}

}  // namespace
}  // namespace market::domain
