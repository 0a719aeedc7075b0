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
  if (!intent_id) {
    CreateIntent request{.order = id,
                         .amount_cents = order->total_cents,
                         .currency = order->currency,
                         .idempotency_key = "order-" + std::to_string(id.value) + "-payment"};
    auto created = co_await provider_.CreateIntent(request);
    if (!created.ok()) co_return created.error();
    std::optional<std::string> attached =
        co_await orders_.AttachIntent(id, provider_.name(), created->id);
    if (!attached) {
      // Cancelled or expired while the intent was being made: it must never be payable.
      co_await CancelProviderIntent(id, created->id);
      co_return MakeError(ErrorCode::kConflict, "This order can no longer be paid.");
    }
    if (*attached == created->id) co_return PaymentSession{std::string(provider_.name()), *created};
    intent_id = *attached;  // another request attached one first
  }
  auto intent = co_await provider_.RetrieveIntent(*intent_id);
  if (!intent.ok()) co_return intent.error();
  co_return PaymentSession{std::string(provider_.name()), std::move(*intent)};
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
    case OrderStatus::kCancelled:
      co_await orders_.AddRefund(tx, order,
                                 order.stored_status == OrderStatus::kExpired
                                     ? "paid_after_expiry"
                                     : "paid_after_cancellation");
      co_await orders_.AddEvent(tx, order.id, std::nullopt, "refund.requested", Actor::kSystem,
                                std::nullopt, "payment arrived for a closed order");
      refund = true;
      co_return "refunded";
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

Task<Result<void>> PaymentsService::HandleWebhook(std::string_view signature,
                                                  std::string_view body) {
  auto parsed = provider_.ParseWebhook(signature, body, clock_.Now());
  if (!parsed.ok()) co_return parsed.error();
  const PaymentEvent& event = *parsed;
  if (event.kind == PaymentEvent::Kind::kOther) co_return Ok();  // acknowledged, nothing to do

  bool refund = false;
  bool released = false;
  std::optional<domain::Order> order;
  // A second round only when CommitPaid found some line's stock gone (it then kept nothing).
  for (bool stock_short = false;;) {
    auto tx = co_await db_.Begin();
    if (event.order) order = co_await orders_.Lock(*tx, *event.order);
    std::string outcome;
    if (!order) {
      outcome = "unknown_order";
    } else if (order->payment_intent_id != event.intent_id ||
               order->payment_provider != provider_.name()) {
      outcome = "intent_mismatch";
    } else if (event.amount_cents != order->total_cents ||
               !EqualsIgnoreCase(event.currency, order->currency)) {
      outcome = "amount_mismatch";
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
      if (paid != PaidCommit::kStockShort) co_return Ok();  // committed, or processed before
      stock_short = true;
      continue;
    }
    if (outcome.ends_with("mismatch") || outcome == "unknown_order")
      spdlog::error("payment event {} ({}) for intent {}: {}; acknowledged, not applied", event.id,
                    event.type, event.intent_id, outcome);
    std::optional<domain::OrderId> order_id;
    if (order) order_id = order->id;
    bool fresh = co_await orders_.RecordPaymentEvent(*tx, provider_.name(), event.id, event.type,
                                                     order_id, outcome);
    if (!fresh) co_return Ok();  // processed before: everything above rolls back
    co_await tx->Commit();
    break;
  }
  if (released) co_await gate_.Release(StockOf(*order));
  if (refund) co_await SendRefunds(order->id);
  co_return Ok();
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

Task<void> PaymentsService::CancelProviderIntent(domain::OrderId order, std::string intent_id) {
  std::string failure;
  try {
    auto cancelled = co_await provider_.CancelIntent(intent_id);
    if (!cancelled.ok()) failure = cancelled.error().message;
  } catch (const ServiceUnavailable& e) {
    failure = e.what();
  }
  if (!failure.empty())
    spdlog::warn("order {}: could not cancel intent {}: {}", order.value, intent_id, failure);
}

}  // namespace market::services
