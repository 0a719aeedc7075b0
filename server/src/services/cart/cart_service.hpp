#pragma once

#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/cart/cart.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/cart/carts_repository.hpp"
#include "services/listings/listings_repository.hpp"

namespace market::services {

// The buyer's cart. Prices shown are the listings' current ones; the price when a line was set
// is kept only to tell the buyer it changed. Checkout (later) reads prices from the listings.
class CartService {
 public:
  CartService(CartsRepository& carts, ListingsRepository& listings);

  Task<domain::Cart> Get(const Principal& buyer);
  Task<Result<domain::Cart>> SetItem(const Principal& buyer, ListingId listing,
                                     std::int64_t quantity);
  Task<domain::Cart> RemoveItem(const Principal& buyer, ListingId listing);
  Task<void> Clear(const Principal& buyer);

 private:
  CartsRepository& carts_;
  ListingsRepository& listings_;
};

}  // namespace market::services
