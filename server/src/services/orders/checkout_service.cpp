#include "services/orders/checkout_service.hpp"

#include <algorithm>

namespace market::services {
namespace {

constexpr std::size_t kMaxKeyLength = 255;

Error NoSuchOrder() { return MakeError(ErrorCode::kNotFound, "No such order."); }

}  // namespace

CheckoutService::CheckoutService(Database& db, OrdersRepository& orders, const Clock& clock,
                                 CheckoutOptions options)
    : db_(db), orders_(orders), clock_(clock), options_(options) {}

Task<Result<PlacedOrder>> CheckoutService::PlaceOrder(const Principal& buyer, std::string key,
                                                      std::string request_hash,
                                                      domain::ShippingAddress address) {
  if (key.empty() || key.size() > kMaxKeyLength ||
      !std::all_of(key.begin(), key.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; }))
    co_return MakeError(ErrorCode::kBadRequest,
                        "An Idempotency-Key header of 1 to 255 visible characters is required.");
  auto errors = domain::ValidateAddress(address);
  if (!errors.empty()) {
    for (auto& error : errors) error.field = "shipping_address." + error.field;
    co_return ValidationError(std::move(errors));
  }

  auto tx = co_await db_.Begin();
  co_await orders_.LockBuyer(*tx, buyer.user.id);
  ClaimOutcome claim = co_await orders_.ClaimKey(*tx, buyer.user.id, key, request_hash);
  if (claim.claim == KeyClaim::kMismatch)
    co_return Error{.code = ErrorCode::kValidationFailed,
                    .message = "This Idempotency-Key was already used for a different request.",
                    .fields = {{"Idempotency-Key", "was used for a different request"}}};
  if (claim.claim == KeyClaim::kReplay) {
    tx.reset();
    std::optional<domain::Order> order;
    if (claim.order) order = co_await orders_.Find(*claim.order);
    if (!order) co_return MakeError(ErrorCode::kConflict, "The first request did not finish.");
    co_return PlacedOrder{.order = std::move(*order), .replayed = true};
  }
  if (co_await orders_.PendingOrders(*tx, buyer.user.id) >= options_.max_pending_orders)
    co_return MakeError(ErrorCode::kConflict,
                        "Too many unpaid orders: pay or cancel one before placing another.");

  std::vector<domain::CheckoutLine> lines = co_await orders_.LockCart(*tx, buyer.user.id);
  if (auto refused = domain::CheckCheckout(lines, buyer.user.id)) co_return std::move(*refused);
  std::int64_t total = domain::OrderTotal(lines);
  domain::OrderId id = co_await orders_.Insert(*tx, buyer.user.id, lines, address, total,
                                               clock_.Now() + options_.payment_ttl);
  co_await orders_.CompleteKey(*tx, buyer.user.id, key, id);
  co_await orders_.RemoveFromCart(*tx, buyer.user.id, lines);
  co_await tx->Commit();

  auto order = co_await orders_.Find(id);
  if (!order) throw std::logic_error("order vanished right after checkout");
  co_return PlacedOrder{.order = std::move(*order)};
}

Task<Result<domain::Order>> CheckoutService::Get(const Principal& viewer, domain::OrderId id) {
  auto order = co_await orders_.Find(id);
  if (!order) co_return NoSuchOrder();
  if (order->buyer_id == viewer.user.id) co_return std::move(*order);
  std::erase_if(order->items, [&viewer](const domain::OrderItem& item) {
    return item.seller_id != viewer.user.id;
  });
  if (order->items.empty()) co_return NoSuchOrder();
  // A seller is told what their own lines come to, not what the buyer spent elsewhere.
  order->total_cents = 0;
  for (const auto& item : order->items) order->total_cents += item.unit_price_cents * item.quantity;
  co_return std::move(*order);
}

}  // namespace market::services
