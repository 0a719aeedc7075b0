#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/database.hpp"
#include "services/orders/orders_repository.hpp"
#include "services/orders/stock_gate.hpp"
#include "services/payments/payment_provider.hpp"

namespace market::services {

struct PaymentSession {
  std::string provider;
  PaymentIntent intent;
};

// What the provider's events do to orders: exactly once per event, each in one transaction with
// its effects. Also the one place that talks to the provider about an order's money (intents,
// cancellations, refunds), always outside any transaction.
class PaymentsService {
 public:
  PaymentsService(Database& db, OrdersRepository& orders, StockGate& gate,
                  PaymentProvider& provider, const Clock& clock);

  PaymentProvider& provider() { return provider_; }

  // The payment intent of the buyer's pending order: created once (stable idempotency key), the
  // same one on every call.
  Task<Result<PaymentSession>> StartPayment(const Principal& buyer, domain::OrderId id);

  // A webhook delivery: the signature is checked before anything is read.
  Task<Result<void>> HandleWebhook(std::string_view signature, std::string_view body);

  // Sends pending refunds (of one order, or every due one) to the provider; failures stay pending
  // and are retried later with backoff. Answers how many succeeded.
  Task<int> SendRefunds(std::optional<domain::OrderId> order);

  // Best effort: an intent that can no longer pay for anything. If it succeeds anyway, its
  // webhook finds the order closed and refunds it.
  Task<void> CancelIntent(const domain::Order& order);

 private:
  Task<void> CancelProviderIntent(domain::OrderId order, std::string intent_id);
  // The effects of a succeeded payment on `order`, written to `tx`, and the outcome to record.
  // "pay" means nothing is written yet: the caller commits it with CommitPaid. `stock_short`:
  // an earlier CommitPaid found some line's stock gone.
  Task<std::string> ApplySucceeded(domain::Order& order, Transaction& tx, bool stock_short,
                                   bool& refund, bool& released);

  Database& db_;
  OrdersRepository& orders_;
  StockGate& gate_;
  PaymentProvider& provider_;
  const Clock& clock_;
};

// Lines of an order as stock to take, return or release.
std::vector<StockWant> StockOf(const domain::Order& order);

}  // namespace market::services
