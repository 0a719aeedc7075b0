#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"

namespace market::domain {

enum class Condition { kNew, kLikeNew, kGood, kFair };
enum class ListingStatus { kActive, kInactive, kDeleted };

std::string_view ConditionName(Condition condition);  // "new", "like_new", "good", "fair"
std::optional<Condition> ParseCondition(std::string_view text);
std::string_view StatusName(ListingStatus status);
std::optional<ListingStatus> ParseStatus(std::string_view text);

struct Category {
  std::string_view slug;
  std::string_view name;
};
// The fixed list served by GET /categories, in display order.
const std::vector<Category>& Categories();
bool IsCategory(std::string_view slug);

inline constexpr std::int64_t kMinPriceCents = 1;
inline constexpr std::int64_t kMaxPriceCents = 99'999'999;
inline constexpr int kMaxQuantity = 1'000'000;
inline constexpr std::size_t kTitleMin = 3;
inline constexpr std::size_t kTitleMax = 120;
inline constexpr std::size_t kDescriptionMax = 5000;
inline constexpr int kMaxImagesPerListing = 10;

struct ListingImage {
  ImageId id;
  int position = 0;
  bool is_main = false;
  std::string format;
  int width = 0;
  int height = 0;
  std::string original_key;
  std::string small_key;
  std::string large_key;
};

struct Seller {
  UserId id;
  std::string username;
  std::string display_name;
  TimePoint created_at;
};

struct Listing {
  ListingId id;
  Seller seller;
  std::string title;
  std::string description;
  std::int64_t price_cents = 0;
  std::string currency;
  int quantity = 0;
  int reserved = 0;  // held by unexpired pending orders
  std::string category;
  Condition condition = Condition::kNew;
  ListingStatus status = ListingStatus::kActive;
  int version = 1;
  TimePoint created_at;
  TimePoint updated_at;
  std::vector<ListingImage> images;  // by position; exactly one is_main when not empty

  int available() const { return quantity > reserved ? quantity - reserved : 0; }
};

// What a seller submits to create a listing (already typed; not yet checked).
struct ListingDraft {
  std::string title;
  std::string description;
  std::int64_t price_cents = 0;
  std::string currency;
  std::int64_t quantity = 0;  // wide, so that an absurd input is refused rather than wrapped
  std::string category;
  std::string condition;
};

struct ListingPatch {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::int64_t> price_cents;
  std::optional<std::string> currency;
  std::optional<std::int64_t> quantity;
  std::optional<std::string> category;
  std::optional<std::string> condition;

  bool empty() const {
    return !title && !description && !price_cents && !currency && !quantity && !category &&
           !condition;
  }
};

// Trims title and description in place; every bad field is reported. `currency` is the
// platform's one currency: a draft naming another is refused.
std::vector<FieldError> ValidateDraft(ListingDraft& draft, std::string_view currency);
std::vector<FieldError> ValidatePatch(ListingPatch& patch, std::string_view currency);

}  // namespace market::domain
