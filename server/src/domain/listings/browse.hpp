#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"
#include "domain/listings/listing.hpp"

namespace market::domain {

enum class ListingSort { kNewest, kPriceAsc, kPriceDesc, kRelevance };

std::string_view SortName(ListingSort sort);
std::optional<ListingSort> ParseSort(std::string_view text);

// Where the previous page ended, in the order of its sort. Keyset pagination: the next page is
// everything strictly after this key, so inserts between requests cause neither duplicates nor
// gaps.
struct Cursor {
  ListingSort sort = ListingSort::kNewest;
  std::int64_t id = 0;
  std::int64_t price_cents = 0;  // price sorts
  float rank = 0;                // relevance
  bool fuzzy = false;            // the page came from a typo-tolerant search
};

// Plain text of a cursor, and back; nullopt for anything malformed. Signing is the caller's.
std::string CursorText(const Cursor& cursor);
std::optional<Cursor> ParseCursorText(std::string_view text);

// Which listings a list shows by status. Public lists show active ones only; a seller's own list
// may show the inactive ones too (never deleted ones).
enum class StatusFilter { kActive, kInactive, kAll };

// "active", "inactive", "all"; nullopt for anything else.
std::optional<StatusFilter> ParseStatusFilter(std::string_view text);

inline constexpr int kDefaultPageSize = 24;
inline constexpr int kMaxPageSize = 100;
inline constexpr std::size_t kMaxSearchLength = 200;

struct BrowseQuery {
  std::optional<std::string> q;
  std::optional<std::string> seller;  // username, normalised
  std::optional<UserId> seller_id;    // the caller's own listings
  StatusFilter status = StatusFilter::kActive;
  std::optional<std::string> category;
  std::optional<Condition> condition;
  std::optional<std::int64_t> min_price;
  std::optional<std::int64_t> max_price;
  bool in_stock = false;
  ListingSort sort = ListingSort::kNewest;
  int limit = kDefaultPageSize;
  std::optional<Cursor> after;
  // With q: whether titles also match loosely (typos). Searches run exact first and fall back to
  // loose matching only when the exact search does not fill the first page.
  bool fuzzy = false;
};

// One card of a list page: what a browser shows without opening the listing.
struct ListingSummary {
  ListingId id;
  std::string title;
  std::int64_t price_cents = 0;
  std::string currency;
  int available = 0;
  std::string category;
  Condition condition = Condition::kNew;
  std::string seller_username;
  std::string seller_display_name;
  std::optional<ListingImage> main_image;
  TimePoint created_at;
  float rank = 0;
  // For the seller's own list: on hand (available is this less what pending orders reserve).
  ListingStatus status = ListingStatus::kActive;
  int quantity = 0;
};

struct ListingPage {
  std::vector<ListingSummary> items;
  std::optional<Cursor> next;
};

// The cursor that continues after `last` in the order of `query`.
Cursor CursorAfter(const ListingSummary& last, const BrowseQuery& query);

// The words of a search that are matched loosely against titles (to forgive typos): lower-case
// runs of letters and digits of at least 3 bytes, at most kMaxFuzzyWords of them.
inline constexpr std::size_t kMaxFuzzyWords = 6;
std::vector<std::string> FuzzyWords(std::string_view q);

// Cross-field rules of a browse query (ranges, relevance needs q, cursor of the same sort).
std::vector<FieldError> ValidateBrowse(const BrowseQuery& query);

}  // namespace market::domain
