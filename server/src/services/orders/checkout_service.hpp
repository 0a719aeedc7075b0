#pragma once

#include <chrono>
#include <string>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/orders/order.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/addresses/addresses_service.hpp"
#include "services/database.hpp"
#include "services/orders/orders_repository.hpp"
#include "services/orders/stock_gate.hpp"

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
// The Redis stock gate admits first (all lines at once, or none), so that only the few who can
// succeed contend for the hot listing rows; PostgreSQL then decides: the listings are locked in
// id order and availability is checked under the locks, so concurrent checkouts can never
// reserve more than is on hand, whatever the counters say, and with Redis down checkout still
// works (slower, never wrong).
class CheckoutService {
 public:
  // `addresses` resolves saved addresses (address ids); without it (tests of stock and orders
  // alone) only inline addresses can be shipped to.
  CheckoutService(Database& db, OrdersRepository& orders, StockGate& gate, const Clock& clock,
                  CheckoutOptions options, AddressesService* addresses = nullptr);

  // `request_hash` identifies the request body: the same key with another body is refused. An
  // inline address is checked like the address book's (the domain rules, then the geocoder) and
  // the order keeps its normalised form; without `addresses`, the domain rules only.
  Task<Result<PlacedOrder>> PlaceOrder(const Principal& buyer, std::string idempotency_key,
                                       std::string request_hash, domain::ShippingAddress address,
                                       std::string ip = "");
  // Ships to one of the buyer's saved addresses: the order keeps a copy, so editing or deleting
  // the address later changes no order.
  Task<Result<PlacedOrder>> PlaceOrder(const Principal& buyer, std::string idempotency_key,
                                       std::string request_hash, domain::AddressId address);

 private:
  Database& db_;
  Task<Result<PlacedOrder>> Place(const Principal& buyer, std::string key, std::string request_hash,
                                  Result<domain::ShippingAddress> address);
  // A retry of a checkout that succeeded gets its order back even when its address no longer
  // resolves (a saved address deleted since): the order's own copy stands in, and the key's check
  // decides (replay or mismatch). Otherwise the refusal.
  Task<Result<domain::ShippingAddress>> EarlierAddress(const Principal& buyer,
                                                       const std::string& key,
                                                       Result<domain::ShippingAddress> refused);
  Task<Result<PlacedOrder>> PlaceInPostgres(const Principal& buyer, const std::string& key,
                                            const std::string& request_hash,
                                            const domain::ShippingAddress& address,
                                            const std::vector<StockWant>* admitted);
  // Admission through the gate. Answers the refusal if there is one; `taken` says whether the
  // gate took stock under `hold` that must be given back if the order is not made.
  Task<std::optional<Error>> Admit(UserId buyer, const std::string& hold,
                                   const std::vector<StockWant>& wants, bool& taken);

  OrdersRepository& orders_;
  StockGate& gate_;
  const Clock& clock_;
  CheckoutOptions options_;
  AddressesService* addresses_;
};

}  // namespace market::services
