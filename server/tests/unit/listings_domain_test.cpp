#include <gtest/gtest.h>

#include "auth/signer.hpp"
#include "domain/listings/browse.hpp"
#include "domain/listings/listing.hpp"

namespace market::domain {
namespace {

bool HasField(const std::vector<FieldError>& errors, std::string_view field) {
  for (const auto& e : errors)
    if (e.field == field) return true;
  return false;
}

ListingDraft Valid() {
  return ListingDraft{.title = "  Oak table  ",
                      .description = "Solid.\nSeats six.",
                      .price_cents = 12500,
                      .currency = "USD",
                      .quantity = 1,
                      .category = "furniture",
                      .condition = "like_new"};
}

TEST(ListingDraft, AcceptsAndTrimsAValidDraft) {
  ListingDraft draft = Valid();
  EXPECT_TRUE(ValidateDraft(draft, "USD").empty());
  EXPECT_EQ(draft.title, "Oak table");
}

TEST(ListingDraft, ReportsEveryBadField) {
  ListingDraft draft{.title = "ab",
                     .description = std::string(5001, 'x'),
                     .price_cents = 0,
                     .currency = "EUR",
                     .quantity = 1'000'001,
                     .category = "spaceships",
                     .condition = "mint"};
  auto errors = ValidateDraft(draft, "USD");
  for (const char* field :
       {"title", "description", "price_cents", "currency", "quantity", "category", "condition"})
    EXPECT_TRUE(HasField(errors, field)) << field;
}

TEST(ListingDraft, EnforcesTheExactBounds) {
  for (auto [price, ok] :
       {std::pair{1LL, true}, {99'999'999LL, true}, {100'000'000LL, false}, {-1LL, false}}) {
    ListingDraft draft = Valid();
    draft.price_cents = price;
    EXPECT_EQ(ValidateDraft(draft, "USD").empty(), ok) << price;
  }
  for (auto [quantity, ok] :
       {std::pair{0LL, true}, {1'000'000LL, true}, {-1LL, false}, {5'000'000'000LL, false}}) {
    ListingDraft draft = Valid();
    draft.quantity = quantity;
    EXPECT_EQ(ValidateDraft(draft, "USD").empty(), ok) << quantity;
  }
  ListingDraft multiline = Valid();
  multiline.title = "Two\nlines";
  EXPECT_TRUE(HasField(ValidateDraft(multiline, "USD"), "title"));
  ListingDraft long_title = Valid();
  long_title.title = std::string(120, 'x');
  EXPECT_TRUE(ValidateDraft(long_title, "USD").empty());
  long_title.title += "x";
  EXPECT_TRUE(HasField(ValidateDraft(long_title, "USD"), "title"));
}

TEST(Cursor, RoundTripsExactly) {
  for (ListingSort sort : {ListingSort::kNewest, ListingSort::kPriceAsc, ListingSort::kPriceDesc,
                           ListingSort::kRelevance}) {
    Cursor cursor{
        .sort = sort, .id = 12345, .price_cents = 999, .rank = 0.123456789f, .fuzzy = true};
    auto parsed = ParseCursorText(CursorText(cursor));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->sort, sort);
    EXPECT_EQ(parsed->id, 12345);
    EXPECT_EQ(parsed->price_cents, 999);
    EXPECT_EQ(parsed->rank, 0.123456789f);
    EXPECT_TRUE(parsed->fuzzy);
  }
}

TEST(Cursor, RefusesMalformedText) {
  EXPECT_TRUE(ParseCursorText("1|newest|1|0|0x0p+0|0"));
  for (const char* bad : {"", "1", "1|newest|1|0", "1|newest|1|0|0x0p+0", "2|newest|1|0|0x0p+0|0",
                          "1|oldest|1|0|0x0p+0|0", "1|newest|-1|0|0x0p+0|0",
                          "1|newest|1|x|0x0p+0|0", "1|newest|1|0|nan|0", "1|newest|1|0|inf|0",
                          "1|newest|1|0|0x0p+0|2", "1|newest|1|0|0x0p+0|0|extra"}) {
    EXPECT_FALSE(ParseCursorText(bad)) << bad;
  }
}

TEST(Cursor, SealedCursorsResistTampering) {
  auth::Signer signer(std::string(40, 's'), "listing cursor");
  std::string sealed = signer.Seal("1|newest|42|0|0x0p+0|0");
  EXPECT_EQ(signer.Open(sealed), "1|newest|42|0|0x0p+0|0");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(signer.Open(tampered)) << i;
  }
  auth::Signer other_purpose(std::string(40, 's'), "something else");
  EXPECT_FALSE(other_purpose.Open(sealed));
}

TEST(FuzzyWords, KeepsDistinctWordsOfThreeOrMoreCharacters) {
  EXPECT_EQ(FuzzyWords("Vintage  lamp, by Ed"), (std::vector<std::string>{"vintage", "lamp"}));
  EXPECT_EQ(FuzzyWords("lamp LAMP lamp"), (std::vector<std::string>{"lamp"}));
  EXPECT_TRUE(FuzzyWords("a b c").empty());
  EXPECT_EQ(FuzzyWords("one two six ten fox cat dog").size(), kMaxFuzzyWords);
}

TEST(StatusFilter, ParsesTheThreeNamesOnly) {
  EXPECT_EQ(ParseStatusFilter("active"), StatusFilter::kActive);
  EXPECT_EQ(ParseStatusFilter("inactive"), StatusFilter::kInactive);
  EXPECT_EQ(ParseStatusFilter("all"), StatusFilter::kAll);
  for (std::string_view bad : {"", "deleted", "ACTIVE", "all ", "any"})
    EXPECT_FALSE(ParseStatusFilter(bad)) << bad;
}

TEST(BrowseQuery, ValidatesRangesAndSort) {
  EXPECT_TRUE(ValidateBrowse(BrowseQuery{}).empty());
  EXPECT_TRUE(HasField(ValidateBrowse(BrowseQuery{.limit = 0}), "limit"));
  EXPECT_TRUE(HasField(ValidateBrowse(BrowseQuery{.limit = 101}), "limit"));
  EXPECT_TRUE(
      HasField(ValidateBrowse(BrowseQuery{.min_price = 500, .max_price = 100}), "max_price"));
  EXPECT_TRUE(HasField(ValidateBrowse(BrowseQuery{.sort = ListingSort::kRelevance}), "sort"));
  EXPECT_TRUE(HasField(ValidateBrowse(BrowseQuery{.category = "nope"}), "category"));
}

}  // namespace
}  // namespace market::domain
