#pragma once

// Small helpers of the order, payment and maintenance db tests.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "domain/orders/order.hpp"

namespace market {

inline std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline domain::ShippingAddress Address() {
  return domain::ShippingAddress{
      .recipient_name = "Ada Buyer", .line1 = "1 Main St", .city = "Springfield", .country = "US"};
}

// The value of a result that must have succeeded; throws (failing the test) naming `what`.
template <class T>
T Must(Result<T> result, std::string_view what) {
  if (!result.ok())
    throw std::runtime_error(std::string(what) + " failed: " + result.error().message);
  return std::move(result).value();
}

// A PostgreSQL bigint[] literal.
inline std::string BigintArray(const std::vector<std::int64_t>& ids) {
  std::string text = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(ids[i]);
  }
  return text + "}";
}

// A PostgreSQL text[] literal of values that need no quoting (ids).
inline std::string TextArray(const std::vector<std::string>& values) {
  std::string text = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ',';
    text += values[i];
  }
  return text + "}";
}

}  // namespace market
