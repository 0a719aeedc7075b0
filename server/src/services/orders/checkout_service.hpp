#pragma once

#include <chrono>
#include <string>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/orders/order.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/database.hpp"
#include "services/orders/orders_repository.hpp"

namespace market::services {

struct CheckoutOptions {
  std::chrono::seconds payment_ttl{15 * 60};
  int max_pending_orders = 5;
};

struct PlacedOrder {
  domain::Order order;
  bool replayed = false;  // an earlier request with the same Idempotency-Key made it
};

// Turns the buyer's cart into one order that reserves its stock until paid or expired.
// PostgreSQL decides: the listings are locked in id order and availability is checked under the
// locks, so concurrent checkouts can never reserve more than is on hand.
class CheckoutService {
 public:
  CheckoutService(Database& db, OrdersRepository& orders, const Clock& clock,
                  CheckoutOptions options);

  // `request_hash` identifies the request body: the same key with another body is refused.
  Task<Result<PlacedOrder>> PlaceOrder(const Principal& buyer, std::string idempotency_key,
                                       std::string request_hash, domain::ShippingAddress address);
  // The buyer sees the whole order; a seller only their own lines; anyone else: 404.
  Task<Result<domain::Order>> Get(const Principal& viewer, domain::OrderId id);

 private:
  Database& db_;
  OrdersRepository& orders_;
  const Clock& clock_;
  CheckoutOptions options_;
};

}  // namespace market::services
