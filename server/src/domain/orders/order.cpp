#include "domain/orders/order.hpp"

#include <algorithm>

#include "common/text.hpp"
#include "domain/users/user.hpp"

namespace market::domain {
namespace {

void Field(std::vector<FieldError>& errors, std::string& value, std::string_view name,
           bool required, std::size_t max_length) {
  value = std::string(Trim(value));
  auto length = Utf8Length(value);
  if (!length) {
    errors.push_back({std::string(name), "must be valid UTF-8"});
  } else if (required && *length == 0) {
    errors.push_back({std::string(name), "is required"});
  } else if (*length > max_length) {
    errors.push_back(
        {std::string(name), "must be at most " + std::to_string(max_length) + " characters"});
  } else if (std::any_of(value.begin(), value.end(),
                         [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    errors.push_back({std::string(name), "must be one line of text"});
  }
}

}  // namespace

std::vector<FieldError> ValidateAddress(ShippingAddress& a) {
  std::vector<FieldError> errors;
  Field(errors, a.recipient_name, "recipient_name", true, 100);
  Field(errors, a.line1, "line1", true, 200);
  Field(errors, a.line2, "line2", false, 200);
  Field(errors, a.city, "city", true, 100);
  Field(errors, a.region, "region", false, 100);
  Field(errors, a.postal_code, "postal_code", false, 20);
  Field(errors, a.phone, "phone", false, 20);
  a.country = std::string(Trim(a.country));
  std::transform(a.country.begin(), a.country.end(), a.country.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (a.country.size() != 2 ||
      !std::all_of(a.country.begin(), a.country.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    errors.push_back({"country", "must be an ISO 3166-1 alpha-2 code, e.g. US"});
  if (!a.phone.empty() && (a.phone[0] != '+' || a.phone.size() < 8 ||
                           !std::all_of(a.phone.begin() + 1, a.phone.end(),
                                        [](char c) { return c >= '0' && c <= '9'; })))
    errors.push_back({"phone", "must be in E.164 form, e.g. +14155550123"});
  return errors;
}

std::string_view OrderStatusName(OrderStatus status) {
  switch (status) {
    case OrderStatus::kPendingPayment:
      return "pending_payment";
    case OrderStatus::kPaid:
      return "paid";
    case OrderStatus::kCancelled:
      return "cancelled";
    case OrderStatus::kExpired:
      return "expired";
    case OrderStatus::kCompleted:
      return "completed";
  }
  return "pending_payment";
}

std::optional<OrderStatus> ParseOrderStatus(std::string_view text) {
  for (auto status : {OrderStatus::kPendingPayment, OrderStatus::kPaid, OrderStatus::kCancelled,
                      OrderStatus::kExpired, OrderStatus::kCompleted}) {
    if (OrderStatusName(status) == text) return status;
  }
  return std::nullopt;
}

std::optional<Error> CheckCheckout(const std::vector<CheckoutLine>& lines, UserId buyer) {
  if (lines.empty()) {
    return Error{.code = ErrorCode::kValidationFailed,
                 .message = "The cart is empty.",
                 .fields = {{"cart", "is empty"}}};
  }
  std::vector<FieldError> problems;
  for (const auto& line : lines) {
    std::string field = "cart." + std::to_string(line.listing_id.value);
    if (line.seller_id == buyer) {
      problems.push_back({field, "is your own listing"});
    } else if (!line.active) {
      problems.push_back({field, "is not for sale any more"});
    } else if (line.quantity > line.stock - line.reserved) {
      int left = std::max(0, line.stock - line.reserved);
      problems.push_back({field, "only " + std::to_string(left) + " available"});
    }
  }
  if (problems.empty()) return std::nullopt;
  return Error{.code = ErrorCode::kConflict,
               .message = "Some items in the cart cannot be bought as they are.",
               .fields = std::move(problems)};
}

std::int64_t OrderTotal(const std::vector<CheckoutLine>& lines) {
  std::int64_t total = 0;
  for (const auto& line : lines) total += line.unit_price_cents * line.quantity;
  return total;
}

}  // namespace market::domain
