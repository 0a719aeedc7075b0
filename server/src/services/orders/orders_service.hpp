#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/orders/order.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/database.hpp"
#include "services/orders/orders_repository.hpp"
#include "services/orders/stock_gate.hpp"
#include "services/payments/payments_service.hpp"

namespace market::services {

struct OrdersOptions {
  // A seller may mark their shipped items delivered once this long has passed since shipping.
  std::chrono::seconds seller_delivery_after{std::chrono::hours(24 * 14)};
};

struct OrderListQuery {
  bool as_seller = false;
  std::optional<domain::OrderStatus> status;
  std::optional<std::int64_t> before;  // from the cursor
  int limit = 20;
};

struct OrderPage {
  std::vector<domain::Order> items;
  std::optional<std::int64_t> next_before;
};

// Orders after checkout: who may see what, and every transition of the lifecycle. Each transition
// locks the order row, checks the rule (domain/orders), writes the change and its event in one
// transaction, and only then talks to Redis or the payment provider.
class OrdersService {
 public:
  OrdersService(Database& db, OrdersRepository& orders, StockGate& gate, PaymentsService& payments,
                const Clock& clock, OrdersOptions options);

  // The buyer sees the whole order; a seller only their own lines; anyone else: 404.
  Task<Result<domain::Order>> Get(const Principal& viewer, domain::OrderId id);
  Task<OrderPage> List(const Principal& viewer, OrderListQuery query);

  Task<Result<domain::Order>> Cancel(const Principal& buyer, domain::OrderId id);
  Task<Result<domain::Order>> Ship(const Principal& seller, domain::OrderId id,
                                   std::vector<std::int64_t> item_ids, std::string carrier,
                                   std::string tracking_code);
  // A seller refunds lines of a paid order they cannot ship: those lines are cancelled, their
  // stock goes back, and each line's total is refunded through the provider. An order with every
  // line cancelled is cancelled; one whose other lines are all delivered is completed.
  Task<Result<domain::Order>> RefundItems(const Principal& seller, domain::OrderId id,
                                          std::vector<std::int64_t> item_ids, std::string reason);
  Task<Result<domain::Order>> Deliver(const Principal& caller, domain::OrderId id,
                                      std::vector<std::int64_t> item_ids);

  // Expires up to `limit` unpaid orders past their deadline: their reservations end, their
  // intents are cancelled. Safe to run anywhere at once (rows are claimed with SKIP LOCKED).
  // Answers how many it expired.
  Task<int> ExpireDue(int limit = 100);

 private:
  Task<Result<domain::Order>> Reload(const Principal& viewer, domain::OrderId id);

  Database& db_;
  OrdersRepository& orders_;
  StockGate& gate_;
  PaymentsService& payments_;
  const Clock& clock_;
  OrdersOptions options_;
};

}  // namespace market::services
