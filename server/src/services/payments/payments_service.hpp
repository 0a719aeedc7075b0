#pragma once

#include <chrono>
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

  // An intent that can no longer pay for anything: canceled at the provider, and then settled.
  // If the provider says it succeeded already, its payment is applied now (a refund, the order
  // being closed) rather than when its webhook comes; if the provider cannot be reached,
  // ReconcileIntents tries again.
  Task<void> CancelIntent(const domain::Order& order);

  struct ReconcileReport {
    int checked = 0;    // intents the provider was asked about
    int paid = 0;       // succeeded without a webhook: the order is now paid
    int refunded = 0;   // succeeded for a closed order: the payment is being refunded
    int cancelled = 0;  // a closed order's intent canceled at last (or found canceled)
    int failed = 0;     // the provider could not answer: asked again next time
  };
  // Asks the provider about up to `limit` unsettled intents (OrdersRepository::IntentsToCheck,
  // `age`): a payment that succeeded without its webhook (lost, or never sent) is applied as the
  // webhook would apply it, exactly once; a closed order's intent is canceled until the provider
  // confirms. Never throws for the provider; throws when PostgreSQL fails.
  Task<ReconcileReport> ReconcileIntents(std::chrono::seconds age, int limit);

 private:
  // The effects of `event` (a verified succeeded or failed payment), exactly once per event id.
  // Returns the outcome: paid, refunded, failed, already_paid, duplicate, unknown_order, …
  Task<std::string> Apply(const PaymentEvent& event);
  // True once the intent is canceled and the order's intent settled.
  Task<bool> CancelProviderIntent(domain::OrderId order, std::string intent_id);
  // A succeeded intent the webhook did not bring, applied under the event id
  // "reconciled:<intent>"; "" when it has not succeeded.
  Task<std::string> ApplyIfSucceeded(domain::OrderId order, const PaymentIntent& intent);
  Task<void> CheckIntent(const OrdersRepository::IntentCheck& check, ReconcileReport& report);
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
