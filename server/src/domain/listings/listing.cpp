#include "domain/listings/listing.hpp"

#include <algorithm>
#include <cctype>

#include "common/text.hpp"
#include "domain/users/user.hpp"

namespace market::domain {
namespace {

// Control characters other than newlines and tabs have no place in listing text.
bool HasStrayControls(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) {
    return (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f;
  });
}

std::optional<std::string> CheckTitle(std::string_view title) {
  auto length = Utf8Length(title);
  if (!length) return "must be valid UTF-8";
  if (*length < kTitleMin || *length > kTitleMax) return "must be 3 to 120 characters";
  if (HasStrayControls(title) || title.find('\n') != std::string_view::npos)
    return "must be one line of text";
  return std::nullopt;
}

std::optional<std::string> CheckDescription(std::string_view description) {
  auto length = Utf8Length(description);
  if (!length) return "must be valid UTF-8";
  if (*length > kDescriptionMax) return "must be at most 5000 characters";
  if (HasStrayControls(description)) return "must not contain control characters";
  return std::nullopt;
}

std::optional<std::string> CheckPrice(std::int64_t cents) {
  if (cents < kMinPriceCents || cents > kMaxPriceCents) return "must be 1 to 99999999 minor units";
  return std::nullopt;
}

std::optional<std::string> CheckQuantity(std::int64_t quantity) {
  if (quantity < 0 || quantity > kMaxQuantity) return "must be 0 to 1000000";
  return std::nullopt;
}

std::optional<std::string> CheckCurrency(std::string_view given, std::string_view platform) {
  if (given != platform) return "must be " + std::string(platform);
  return std::nullopt;
}

std::optional<std::string> CheckCategory(std::string_view category) {
  if (!IsCategory(category)) return "is not a known category (see GET /api/v1/categories)";
  return std::nullopt;
}

std::optional<std::string> CheckCondition(std::string_view condition) {
  if (!ParseCondition(condition)) return "must be new, like_new, good or fair";
  return std::nullopt;
}

void Check(std::vector<FieldError>& errors, std::string_view field,
           const std::optional<std::string>& message) {
  if (message) errors.push_back({std::string(field), *message});
}

}  // namespace

std::string_view ConditionName(Condition condition) {
  switch (condition) {
    case Condition::kNew:
      return "new";
    case Condition::kLikeNew:
      return "like_new";
    case Condition::kGood:
      return "good";
    case Condition::kFair:
      return "fair";
  }
  return "new";
}

std::optional<Condition> ParseCondition(std::string_view text) {
  if (text == "new") return Condition::kNew;
  if (text == "like_new") return Condition::kLikeNew;
  if (text == "good") return Condition::kGood;
  if (text == "fair") return Condition::kFair;
  return std::nullopt;
}

std::string_view StatusName(ListingStatus status) {
  switch (status) {
    case ListingStatus::kActive:
      return "active";
    case ListingStatus::kInactive:
      return "inactive";
    case ListingStatus::kDeleted:
      return "deleted";
  }
  return "active";
}

std::optional<ListingStatus> ParseStatus(std::string_view text) {
  if (text == "active") return ListingStatus::kActive;
  if (text == "inactive") return ListingStatus::kInactive;
  if (text == "deleted") return ListingStatus::kDeleted;
  return std::nullopt;
}

const std::vector<Category>& Categories() {
  static const std::vector<Category> kCategories = {
      {"electronics", "Electronics"},
      {"computers", "Computers & Tablets"},
      {"phones", "Phones & Accessories"},
      {"cameras", "Cameras & Photo"},
      {"video-games", "Video Games & Consoles"},
      {"home-garden", "Home & Garden"},
      {"furniture", "Furniture"},
      {"kitchen", "Kitchen & Dining"},
      {"tools", "Tools & DIY"},
      {"fashion", "Clothing & Fashion"},
      {"shoes", "Shoes"},
      {"jewelry", "Jewelry & Watches"},
      {"health-beauty", "Health & Beauty"},
      {"baby", "Baby & Kids"},
      {"toys", "Toys & Games"},
      {"sports", "Sports & Fitness"},
      {"outdoors", "Outdoors & Camping"},
      {"bicycles", "Bicycles"},
      {"automotive", "Car & Motorbike Parts"},
      {"books", "Books"},
      {"music", "Music & Instruments"},
      {"movies", "Movies & TV"},
      {"art", "Art & Crafts"},
      {"collectibles", "Collectibles"},
      {"pets", "Pet Supplies"},
      {"office", "Office Supplies"},
      {"other", "Everything Else"},
  };
  return kCategories;
}

bool IsCategory(std::string_view slug) {
  const auto& all = Categories();
  return std::any_of(all.begin(), all.end(), [slug](const Category& c) { return c.slug == slug; });
}

std::vector<FieldError> ValidateDraft(ListingDraft& draft, std::string_view currency) {
  std::vector<FieldError> errors;
  draft.title = std::string(Trim(draft.title));
  draft.description = std::string(Trim(draft.description));
  Check(errors, "title", CheckTitle(draft.title));
  Check(errors, "description", CheckDescription(draft.description));
  Check(errors, "price_cents", CheckPrice(draft.price_cents));
  Check(errors, "currency", CheckCurrency(draft.currency, currency));
  Check(errors, "quantity", CheckQuantity(draft.quantity));
  Check(errors, "category", CheckCategory(draft.category));
  Check(errors, "condition", CheckCondition(draft.condition));
  return errors;
}

std::vector<FieldError> ValidatePatch(ListingPatch& patch, std::string_view currency) {
  std::vector<FieldError> errors;
  if (patch.title) {
    patch.title = std::string(Trim(*patch.title));
    Check(errors, "title", CheckTitle(*patch.title));
  }
  if (patch.description) {
    patch.description = std::string(Trim(*patch.description));
    Check(errors, "description", CheckDescription(*patch.description));
  }
  if (patch.price_cents) Check(errors, "price_cents", CheckPrice(*patch.price_cents));
  if (patch.currency) Check(errors, "currency", CheckCurrency(*patch.currency, currency));
  if (patch.quantity) Check(errors, "quantity", CheckQuantity(*patch.quantity));
  if (patch.category) Check(errors, "category", CheckCategory(*patch.category));
  if (patch.condition) Check(errors, "condition", CheckCondition(*patch.condition));
  return errors;
}

}  // namespace market::domain
