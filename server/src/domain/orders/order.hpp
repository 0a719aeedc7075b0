#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"

namespace market::domain {

using OrderId = StrongId<struct OrderTag>;

struct ShippingAddress {
  std::string recipient_name;
  std::string line1;
  std::string line2;
  std::string city;
  std::string region;
  std::string postal_code;
  std::string country;  // ISO 3166-1 alpha-2, upper case
  std::string phone;
};

// Trims every field in place and upper-cases the country; every bad field is reported.
std::vector<FieldError> ValidateAddress(ShippingAddress& address);

enum class OrderStatus { kPendingPayment, kPaid, kCancelled, kExpired, kCompleted };
std::string_view OrderStatusName(OrderStatus status);
std::optional<OrderStatus> ParseOrderStatus(std::string_view text);

struct OrderItem {
  std::int64_t id = 0;
  ListingId listing_id;
  UserId seller_id;
  std::string seller_username;
  std::string seller_display_name;
  std::string title;
  std::int64_t unit_price_cents = 0;
  std::string currency;
  int quantity = 0;
  std::optional<std::string> image_key;
  std::string status;
};

struct Order {
  OrderId id;
  UserId buyer_id;
  OrderStatus status = OrderStatus::kPendingPayment;
  std::string currency;
  std::int64_t total_cents = 0;
  ShippingAddress shipping_address;
  TimePoint expires_at;
  TimePoint created_at;
  std::vector<OrderItem> items;
};

// One cart line at checkout, with its listing as locked in the checkout transaction.
struct CheckoutLine {
  ListingId listing_id;
  int quantity = 0;  // wanted
  UserId seller_id;
  std::string seller_username;
  std::string seller_display_name;
  std::string title;
  std::int64_t unit_price_cents = 0;
  std::string currency;
  bool active = false;
  int stock = 0;     // listings.quantity
  int reserved = 0;  // held by other unexpired pending orders
  std::optional<std::string> image_key;
};

// Why these lines cannot become an order for `buyer` (kValidationFailed for an empty cart,
// kConflict naming each listing that is not for sale or short of stock), or nothing.
std::optional<Error> CheckCheckout(const std::vector<CheckoutLine>& lines, UserId buyer);
std::int64_t OrderTotal(const std::vector<CheckoutLine>& lines);

}  // namespace market::domain
