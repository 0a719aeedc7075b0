#include "domain/listings/browse.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace market::domain {
namespace {

template <class T>
bool ParseWhole(std::string_view text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

}  // namespace

std::string_view SortName(ListingSort sort) {
  switch (sort) {
    case ListingSort::kNewest:
      return "newest";
    case ListingSort::kPriceAsc:
      return "price_asc";
    case ListingSort::kPriceDesc:
      return "price_desc";
    case ListingSort::kRelevance:
      return "relevance";
  }
  return "newest";
}

std::optional<ListingSort> ParseSort(std::string_view text) {
  if (text == "newest") return ListingSort::kNewest;
  if (text == "price_asc") return ListingSort::kPriceAsc;
  if (text == "price_desc") return ListingSort::kPriceDesc;
  if (text == "relevance") return ListingSort::kRelevance;
  return std::nullopt;
}

std::optional<StatusFilter> ParseStatusFilter(std::string_view text) {
  if (text == "active") return StatusFilter::kActive;
  if (text == "inactive") return StatusFilter::kInactive;
  if (text == "all") return StatusFilter::kAll;
  return std::nullopt;
}

// "1|<sort>|<id>|<price>|<rank as %a>|<fuzzy 0/1>": hex floats round-trip exactly.
std::string CursorText(const Cursor& cursor) {
  char rank[64];
  std::snprintf(rank, sizeof rank, "%a", static_cast<double>(cursor.rank));
  return "1|" + std::string(SortName(cursor.sort)) + "|" + std::to_string(cursor.id) + "|" +
         std::to_string(cursor.price_cents) + "|" + rank + "|" + (cursor.fuzzy ? "1" : "0");
}

std::optional<Cursor> ParseCursorText(std::string_view text) {
  auto parts = Split(text, '|');
  if (parts.size() != 6 || parts[0] != "1" || (parts[5] != "0" && parts[5] != "1"))
    return std::nullopt;
  Cursor cursor;
  auto sort = ParseSort(parts[1]);
  if (!sort || !ParseWhole(parts[2], cursor.id) || cursor.id <= 0 ||
      !ParseWhole(parts[3], cursor.price_cents) || cursor.price_cents < 0)
    return std::nullopt;
  cursor.sort = *sort;
  std::string rank_text(parts[4]);
  char* end = nullptr;
  double rank = std::strtod(rank_text.c_str(), &end);
  if (end != rank_text.c_str() + rank_text.size() || !std::isfinite(rank)) return std::nullopt;
  cursor.rank = static_cast<float>(rank);
  cursor.fuzzy = parts[5] == "1";
  return cursor;
}

Cursor CursorAfter(const ListingSummary& last, const BrowseQuery& query) {
  return Cursor{.sort = query.sort,
                .id = last.id.value,
                .price_cents = last.price_cents,
                .rank = last.rank,
                .fuzzy = query.fuzzy};
}

std::vector<std::string> FuzzyWords(std::string_view q) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (word.size() >= 3 && words.size() < kMaxFuzzyWords &&
        std::find(words.begin(), words.end(), word) == words.end())
      words.push_back(word);
    word.clear();
  };
  for (char c : q) {
    unsigned char u = static_cast<unsigned char>(c);
    // Bytes of multi-byte UTF-8 characters count as word characters.
    if (std::isalnum(u) || u >= 0x80) {
      word += static_cast<char>(std::tolower(u));
    } else {
      flush();
    }
  }
  flush();
  return words;
}

std::vector<FieldError> ValidateBrowse(const BrowseQuery& query) {
  std::vector<FieldError> errors;
  if (query.limit < 1 || query.limit > kMaxPageSize)
    errors.push_back({"limit", "must be 1 to 100"});
  if (query.min_price && (*query.min_price < 0 || *query.min_price > kMaxPriceCents))
    errors.push_back({"min_price", "must be 0 to 99999999"});
  if (query.max_price && (*query.max_price < 0 || *query.max_price > kMaxPriceCents))
    errors.push_back({"max_price", "must be 0 to 99999999"});
  if (query.min_price && query.max_price && *query.min_price > *query.max_price)
    errors.push_back({"max_price", "must not be below min_price"});
  if (query.category && !IsCategory(*query.category))
    errors.push_back({"category", "is not a known category"});
  if (query.q && query.q->size() > kMaxSearchLength)
    errors.push_back({"q", "must be at most 200 characters"});
  if (query.sort == ListingSort::kRelevance && !query.q)
    errors.push_back({"sort", "relevance needs a search (q)"});
  return errors;
}

}  // namespace market::domain
