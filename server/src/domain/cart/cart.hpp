#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "domain/listings/listing.hpp"

namespace market::domain {

inline constexpr int kMinCartQuantity = 1;
inline constexpr int kMaxCartQuantity = 99;
inline constexpr int kMaxCartLines = 50;

enum class CartProblem { kNotForSale, kPriceChanged, kExceedsAvailable };
std::string_view CartProblemName(CartProblem problem);

// A cart line joined with the listing as it is now.
struct CartLine {
  ListingId listing_id;
  std::string title;
  std::string seller_username;
  std::string seller_display_name;
  std::optional<ListingImage> main_image;
  std::int64_t unit_price_cents = 0;
  std::int64_t price_when_added_cents = 0;
  std::string currency;
  int quantity = 0;
  int available = 0;
  bool for_sale = true;  // the listing is active
  TimePoint added_at;

  std::int64_t line_total_cents() const { return unit_price_cents * quantity; }
  // Why the line cannot be bought as it is (a price change is shown but does not block).
  std::vector<CartProblem> problems() const;
  bool purchasable() const;
};

struct Cart {
  std::vector<CartLine> lines;  // by added_at, then listing id
  std::int64_t total_cents() const;
  bool purchasable() const;
};

}  // namespace market::domain
