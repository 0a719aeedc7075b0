#pragma once

#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/cart/cart.hpp"

namespace market::services {

class CartsRepository {
 public:
  virtual ~CartsRepository() = default;

  // The user's lines joined with their listings as they are now, in one query.
  virtual Task<domain::Cart> Load(UserId user) = 0;
  // Adds or replaces the line, serialised per user so that the line limit holds under
  // concurrent requests: kConflict when the cart already has `max_lines` other lines.
  virtual Task<Result<void>> Put(UserId user, ListingId listing, int quantity,
                                 std::int64_t unit_price_cents, int max_lines) = 0;
  virtual Task<void> Remove(UserId user, ListingId listing) = 0;
  virtual Task<void> Clear(UserId user) = 0;
};

}  // namespace market::services
