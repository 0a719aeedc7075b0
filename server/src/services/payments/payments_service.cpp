#include "services/payments/payments_service.hpp"

#include <spdlog/spdlog.h>

#include "common/text.hpp"
#include "common/unavailable.hpp"

namespace market::services {
namespace {

constexpr int kRefundBatch = 20;

Error NoSuchOrder() { return MakeError(ErrorCode::kNotFound, "No such order."); }

}  // namespace

std::vector<StockWant> StockOf(const domain::Order& order) {
  std::vector<StockWant> lines;
  lines.reserve(order.items.size());
  for (const auto& item : order.items) {
    if (item.status == domain::ItemStatus::kCancelled) continue;
    lines.push_back(StockWant{.listing = item.listing_id, .quantity = item.quantity});
  }
  return lines;
}

PaymentsService::PaymentsService(Database& db, OrdersRepository& orders, StockGate& gate,
                                 PaymentProvider& provider, const Clock& clock)
    : db_(db), orders_(orders), gate_(gate), provider_(provider), clock_(clock) {}

Task<Result<PaymentSession>> PaymentsService::StartPayment(const Principal& buyer,
                                                           domain::OrderId id) {
  auto order = co_await orders_.Find(id);
  if (!order || order->buyer_id != buyer.user.id) co_return NoSuchOrder();
  switch (order->Status()) {
    case domain::OrderStatus::kPendingPayment:
      break;
    case domain::OrderStatus::kExpired:
      co_return MakeError(ErrorCode::kConflict,
                          "This order expired unpaid: place it again from the cart.");
    case domain::OrderStatus::kCancelled:
      co_return MakeError(ErrorCode::kConflict, "This order was cancelled.");
    default:
      co_return MakeError(ErrorCode::kConflict, "This order is already paid.");
  }
  if (order->payment_provider && *order->payment_provider != provider_.name())
    co_return MakeError(ErrorCode::kConflict,
                        "This order's payment was started with another provider.");

  std::optional<std::string> intent_id = order->payment_intent_id;
  // The intent the order's payment was last restarted after: a new intent's idempotency key
  // names it, so that a retry makes the same new intent and not the canceled one again.
  std::string replaces;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!intent_id) {
      std::string key = "order-" + std::to_string(id.value) + "-payment";
      if (!replaces.empty()) key += "-after-" + replaces;
      CreateIntent request{.order = id,
                           .amount_cents = order->total_cents,
                           .currency = order->currency,
                           .idempotency_key = std::move(key)};
      auto created = co_await provider_.CreateIntent(request);
      if (!created.ok()) co_return created.error();
      std::optional<std::string> attached =
          co_await orders_.AttachIntent(id, provider_.name(), created->id);
      if (!attached) {
        // Cancelled or expired while the intent was being made: it must never be payable.
        co_await CancelProviderIntent(id, created->id);
        co_return MakeError(ErrorCode::kConflict, "This order can no longer be paid.");
      }
      if (*attached == created->id && created->status != "canceled")
        co_return PaymentSession{std::string(provider_.name()), *created};
      intent_id = *attached;  // another request attached one first, or this one is canceled
    }
    auto intent = co_await provider_.RetrieveIntent(*intent_id);
    if (!intent.ok()) co_return intent.error();
    if (intent->status != "canceled")
      co_return PaymentSession{std::string(provider_.name()), std::move(*intent)};
    // Canceled at the provider (its dashboard, say) while the order still waits for payment: it
    // can never be paid, so the order gets a new intent.
    bool detached = co_await orders_.DetachCanceledIntent(id, *intent_id);
    if (!detached) {
      auto now = co_await orders_.Find(id);
      if (!now || now->Status() != domain::OrderStatus::kPendingPayment)
        co_return MakeError(ErrorCode::kConflict, "This order can no longer be paid.");
    }
    replaces = *intent_id;
    intent_id.reset();
  }
  co_return MakeError(ErrorCode::kUnavailable,
                      "The payment provider keeps canceling this payment; try again later.");
}

Task<std::string> PaymentsService::ApplySucceeded(domain::Order& order, Transaction& tx,
                                                  bool stock_short, bool& refund, bool& released) {
  using domain::Actor;
  using domain::OrderStatus;
  switch (order.stored_status) {
    case OrderStatus::kPaid:
    case OrderStatus::kCompleted:
      co_return "already_paid";
    case OrderStatus::kExpired:
    case OrderStatus::kCancelled: {
      // Once, however many events report the payment (the webhook and reconcile_payments).
      const bool added = co_await orders_.AddRefund(tx, order,
                                                    order.stored_status == OrderStatus::kExpired
                                                        ? "paid_after_expiry"
                                                        : "paid_after_cancellation");
      if (added)
        co_await orders_.AddEvent(tx, order.id, std::nullopt, "refund.requested", Actor::kSystem,
                                  std::nullopt, "payment arrived for a closed order");
      refund = true;
      co_return "refunded";
    }
    case OrderStatus::kPendingPayment:
      break;
  }
  if (order.past_expiry) {
    // The reservation ended at expires_at and the stock may be someone else's now: the order
    // expires and the buyer gets the money back.
    co_await orders_.SetStatus(tx, order.id, OrderStatus::kExpired);
    co_await orders_.CancelItems(tx, order.id);
    co_await orders_.AddEvent(tx, order.id, std::nullopt, "order.expired", Actor::kSystem,
                              std::nullopt, "");
    co_await orders_.AddRefund(tx, order, "paid_after_expiry");
    co_await orders_.AddEvent(tx, order.id, std::nullopt, "refund.requested", Actor::kSystem,
                              std::nullopt, "payment arrived after the order expired");
    refund = released = true;
    co_return "refunded";
  }
  if (!stock_short) co_return "pay";
  // Cannot happen while reservations hold; if it ever does, nobody is charged for nothing.
  spdlog::error("order {}: paid but its stock is no longer on hand; refunding", order.id.value);
  co_await orders_.SetStatus(tx, order.id, OrderStatus::kCancelled);
  co_await orders_.CancelItems(tx, order.id);
  co_await orders_.AddEvent(tx, order.id, std::nullopt, "order.cancelled", Actor::kSystem,
                            std::nullopt, "stock no longer on hand");
  co_await orders_.AddRefund(tx, order, "stock_unavailable");
  refund = released = true;
  co_return "refunded";
}

Task<std::string> PaymentsService::ApplyAfterPayment(domain::Order& order, Transaction& tx,
                                                     const PaymentEvent& event) {
  using domain::Actor;
  using domain::OrderStatus;
  const bool was_paid = order.paid_at.has_value();
  switch (event.kind) {
    case PaymentEvent::Kind::kDisputeOpened:
      // The money is held back by the buyer's bank: the order waits (no cancel, ship or
      // deliver), and both sides see why in its history.
      if (!was_paid || domain::Disputed(order)) co_return "dispute_ignored";
      co_await orders_.AddEvent(tx, order.id, std::nullopt, "payment.disputed", Actor::kProvider,
                                std::nullopt, event.detail);
      co_return "disputed";
    case PaymentEvent::Kind::kDisputeClosed:
      if (!domain::Disputed(order)) co_return "dispute_ignored";
      co_await orders_.AddEvent(tx, order.id, std::nullopt, "payment.dispute_closed",
                                Actor::kProvider, std::nullopt, event.detail);
      co_return "dispute_closed";
    case PaymentEvent::Kind::kRefunded:
      // Ours comes back as a confirmation; one made at the provider is recorded for both sides.
      if (!order.refunds.empty()) co_return "refund_confirmed";
      co_await orders_.AddEvent(tx, order.id, std::nullopt, "payment.refunded", Actor::kProvider,
                                std::nullopt, event.detail);
      co_return order.stored_status == OrderStatus::kPendingPayment ? "refund_before_payment"
                                                                    : "refunded_at_provider";
    default:
      co_return "ignored";
  }
}

Task<Result<void>> PaymentsService::HandleWebhook(std::string_view signature,
                                                  std::string_view body) {
  auto parsed = provider_.ParseWebhook(signature, body, clock_.Now());
  if (!parsed.ok()) co_return parsed.error();
  if (parsed->kind == PaymentEvent::Kind::kOther) co_return Ok();  // acknowledged, nothing to do
  co_await Apply(*parsed);
  co_return Ok();
}

Task<std::string> PaymentsService::Apply(const PaymentEvent& event) {
  bool refund = false;
  bool released = false;
  std::optional<domain::Order> order;
  std::string outcome;
  // A payment must name its order in its metadata (and match it); disputes and refunds come on
  // objects that need not carry it, and are found by their intent.
  std::optional<domain::OrderId> order_id = event.order;
  if (!order_id && !event.whole_payment() && !event.intent_id.empty())
    order_id = co_await orders_.OrderOfIntent(provider_.name(), event.intent_id);
  // A second round only when CommitPaid found some line's stock gone (it then kept nothing).
  for (bool stock_short = false;;) {
    auto tx = co_await db_.Begin();
    if (order_id) order = co_await orders_.Lock(*tx, *order_id);
    if (!order) {
      outcome = "unknown_order";
    } else if (order->payment_intent_id != event.intent_id ||
               order->payment_provider != provider_.name()) {
      outcome = "intent_mismatch";
    } else if ((event.whole_payment() && event.amount_cents != order->total_cents) ||
               !EqualsIgnoreCase(event.currency, order->currency)) {
      outcome = "amount_mismatch";
    } else if (!event.whole_payment()) {
      outcome = co_await ApplyAfterPayment(*order, *tx, event);
    } else if (event.kind == PaymentEvent::Kind::kFailed) {
      outcome = "failed";
      if (order->Status() == domain::OrderStatus::kPendingPayment)
        co_await orders_.AddEvent(*tx, order->id, std::nullopt, "payment.failed",
                                  domain::Actor::kProvider, std::nullopt, event.failure_code);
    } else {
      outcome = co_await ApplySucceeded(*order, *tx, stock_short, refund, released);
    }
    if (outcome == "pay") {
      // Paid, the event recorded and the stock taken, committed in one round trip.
      PaidCommit paid = co_await orders_.CommitPaid(
          *tx, order->id, event.intent_id, StockOf(*order), provider_.name(), event.id, event.type);
      if (paid == PaidCommit::kCommitted) co_return "paid";
      if (paid == PaidCommit::kEventRecordedBefore) co_return "duplicate";
      stock_short = true;
      continue;
    }
    if (outcome.ends_with("mismatch") || outcome == "unknown_order")
      spdlog::error("payment event {} ({}) for intent {}: {}; acknowledged, not applied", event.id,
                    event.type, event.intent_id, outcome);
    std::optional<domain::OrderId> recorded_order;
    if (order) recorded_order = order->id;
    bool fresh = co_await orders_.RecordPaymentEvent(*tx, provider_.name(), event.id, event.type,
                                                     recorded_order, outcome);
    if (!fresh) co_return "duplicate";  // processed before: everything above rolls back
    co_await tx->Commit();
    break;
  }
  if (released) co_await gate_.Release(StockOf(*order));
  if (refund) co_await SendRefunds(order->id);
  co_return outcome;
}

Task<int> PaymentsService::SendRefunds(std::optional<domain::OrderId> order) {
  int succeeded = 0;
  auto tasks = co_await orders_.LeaseRefunds(order, kRefundBatch);
  for (const auto& task : tasks) {
    if (task.provider != provider_.name()) {
      co_await orders_.RefundFailed(task.id, "provider " + task.provider + " is not configured");
      continue;
    }
    RefundRequest request{.intent_id = task.intent_id,
                          .amount_cents = task.amount_cents,
                          .reason = task.reason,
                          .idempotency_key = "refund-" + std::to_string(task.id)};
    std::string failure;
    std::optional<RefundResult> result;
    try {
      auto answered = co_await provider_.Refund(request);
      if (answered.ok()) {
        result = std::move(*answered);
      } else {
        failure = answered.error().message;
      }
    } catch (const ServiceUnavailable& e) {
      failure = e.what();
    }
    if (result) {
      co_await orders_.RefundSucceeded(task.id, result->id);
      ++succeeded;
    } else {
      spdlog::warn("refund {} of order {} failed, will retry: {}", task.id, task.order.value,
                   failure);
      co_await orders_.RefundFailed(task.id, failure);
    }
  }
  co_return succeeded;
}

Task<void> PaymentsService::CancelIntent(const domain::Order& order) {
  if (order.payment_intent_id && order.payment_provider == provider_.name())
    co_await CancelProviderIntent(order.id, *order.payment_intent_id);
}

Task<bool> PaymentsService::CancelProviderIntent(domain::OrderId order, std::string intent_id) {
  std::string failure;
  bool succeeded_already = false;
  try {
    auto cancelled = co_await provider_.CancelIntent(intent_id);
    if (cancelled.ok()) {
      co_await orders_.IntentSettled(order);
      co_return true;
    }
    succeeded_already = cancelled.error().code == ErrorCode::kConflict;
    failure = cancelled.error().message;
  } catch (const ServiceUnavailable& e) {
    failure = e.what();
  }
  spdlog::warn("order {}: could not cancel intent {}: {}", order.value, intent_id, failure);
  if (!succeeded_already) co_return false;  // reconcile_payments asks again
  // The buyer paid before the cancel: the money goes back now, not whenever the webhook comes.
  try {
    Result<PaymentIntent> intent = co_await provider_.RetrieveIntent(intent_id);
    if (intent.ok()) co_await ApplyIfSucceeded(order, *intent);
  } catch (const ServiceUnavailable& e) {
    spdlog::warn("order {}: could not retrieve intent {}: {}", order.value, intent_id, e.what());
  }
  co_return false;
}

Task<std::string> PaymentsService::ApplyIfSucceeded(domain::OrderId order,
                                                    const PaymentIntent& intent) {
  if (intent.status != "succeeded") co_return "";
  const PaymentEvent event{.id = "reconciled:" + intent.id,
                           .type = "payment_intent.succeeded",
                           .kind = PaymentEvent::Kind::kSucceeded,
                           .intent_id = intent.id,
                           .amount_cents = intent.amount_cents,
                           .currency = intent.currency,
                           .order = order};
  const std::string outcome = co_await Apply(event);
  spdlog::warn("order {}: intent {} succeeded without its webhook: {}", order.value, intent.id,
               outcome);
  co_return outcome;
}

Task<void> PaymentsService::CheckIntent(const OrdersRepository::IntentCheck& check,
                                        ReconcileReport& report) {
  Result<PaymentIntent> intent = co_await provider_.RetrieveIntent(check.intent_id);
  if (!intent.ok()) {
    ++report.failed;
    spdlog::error("order {}: the provider does not know intent {}: {}", check.order.value,
                  check.intent_id, intent.error().message);
    co_return;
  }
  const std::string outcome = co_await ApplyIfSucceeded(check.order, *intent);
  if (outcome == "paid") ++report.paid;
  if (outcome == "refunded") ++report.refunded;
  if (!outcome.empty() || !check.closed) co_return;
  if (intent->status == "canceled") {
    co_await orders_.IntentSettled(check.order);
    ++report.cancelled;
  } else if (co_await CancelProviderIntent(check.order, check.intent_id)) {
    ++report.cancelled;
  }
}

Task<PaymentsService::ReconcileReport> PaymentsService::ReconcileIntents(std::chrono::seconds age,
                                                                         int limit) {
  ReconcileReport report;
  const std::vector<OrdersRepository::IntentCheck> checks =
      co_await orders_.IntentsToCheck(provider_.name(), age, limit);
  for (const auto& check : checks) {
    ++report.checked;
    try {
      co_await CheckIntent(check, report);
    } catch (const ServiceUnavailable& e) {
      ++report.failed;
      spdlog::warn("order {}: could not check intent {}: {}", check.order.value, check.intent_id,
                   e.what());
    }
  }
  co_return report;
}

}  // namespace market::services
