#include "services/orders/orders_service.hpp"

#include <algorithm>

namespace market::services {
namespace {

using domain::Actor;
using domain::OrderStatus;

Error NoSuchOrder() { return MakeError(ErrorCode::kNotFound, "No such order."); }

bool SellsIn(const domain::Order& order, UserId user) {
  return std::any_of(order.items.begin(), order.items.end(),
                     [user](const domain::OrderItem& item) { return item.seller_id == user; });
}

// What `viewer` may see of `order`, or nothing.
std::optional<domain::Order> ViewFor(domain::Order order, UserId viewer) {
  if (order.buyer_id == viewer) return order;
  if (!SellsIn(order, viewer)) return std::nullopt;
  return domain::SellerView(std::move(order), viewer);
}

}  // namespace

OrdersService::OrdersService(Database& db, OrdersRepository& orders, StockGate& gate,
                             PaymentsService& payments, const Clock& clock, OrdersOptions options)
    : db_(db),
      orders_(orders),
      gate_(gate),
      payments_(payments),
      clock_(clock),
      options_(options) {}

Task<Result<domain::Order>> OrdersService::Reload(const Principal& viewer, domain::OrderId id) {
  auto order = co_await orders_.Find(id);
  if (!order) co_return NoSuchOrder();
  auto view = ViewFor(std::move(*order), viewer.user.id);
  if (!view) co_return NoSuchOrder();
  co_return std::move(*view);
}

Task<Result<domain::Order>> OrdersService::Get(const Principal& viewer, domain::OrderId id) {
  co_return co_await Reload(viewer, id);
}

Task<OrderPage> OrdersService::List(const Principal& viewer, OrderListQuery query) {
  OrdersRepository::ListQuery repository_query{.viewer = viewer.user.id,
                                               .as_seller = query.as_seller,
                                               .status = query.status,
                                               .before = query.before,
                                               .limit = query.limit + 1};
  std::vector<domain::Order> orders = co_await orders_.List(repository_query);
  OrderPage page;
  if (orders.size() > static_cast<std::size_t>(query.limit)) {
    orders.resize(query.limit);
    page.next_before = orders.back().id.value;
  }
  for (auto& order : orders) {
    page.items.push_back(query.as_seller ? domain::SellerView(std::move(order), viewer.user.id)
                                         : std::move(order));
  }
  co_return page;
}

Task<Result<domain::Order>> OrdersService::Cancel(const Principal& buyer, domain::OrderId id) {
  domain::Order order;
  bool paid = false;
  {
    auto tx = co_await db_.Begin();
    auto locked = co_await orders_.Lock(*tx, id);
    if (!locked) co_return NoSuchOrder();
    if (locked->buyer_id != buyer.user.id) {
      if (SellsIn(*locked, buyer.user.id))
        co_return MakeError(ErrorCode::kForbidden, "Only the buyer can cancel an order.");
      co_return NoSuchOrder();
    }
    if (auto refused = domain::CheckCancel(*locked)) co_return std::move(*refused);
    order = std::move(*locked);
    paid = order.stored_status == OrderStatus::kPaid;
    if (paid) co_await orders_.ReturnStock(*tx, StockOf(order));
    co_await orders_.SetStatus(*tx, id, OrderStatus::kCancelled);
    co_await orders_.CancelItems(*tx, id);
    co_await orders_.AddEvent(*tx, id, std::nullopt, "order.cancelled", Actor::kBuyer,
                              buyer.user.id, "");
    if (paid) {
      co_await orders_.AddRefund(*tx, order, "cancelled_by_buyer");
      co_await orders_.AddEvent(*tx, id, std::nullopt, "refund.requested", Actor::kSystem,
                                std::nullopt, "");
    }
    co_await tx->Commit();
  }
  // The reservation (pending) or the sold stock (paid) is available again.
  co_await gate_.Release(StockOf(order));
  if (paid) {
    co_await payments_.SendRefunds(id);
  } else {
    co_await payments_.CancelIntent(order);
  }
  co_return co_await Reload(buyer, id);
}

Task<Result<domain::Order>> OrdersService::Ship(const Principal& seller, domain::OrderId id,
                                                std::vector<std::int64_t> item_ids,
                                                std::string carrier, std::string tracking_code) {
  {
    auto tx = co_await db_.Begin();
    auto order = co_await orders_.Lock(*tx, id);
    if (!order) co_return NoSuchOrder();
    if (!SellsIn(*order, seller.user.id)) {
      if (order->buyer_id == seller.user.id)
        co_return MakeError(ErrorCode::kForbidden, "Only the seller can ship their items.");
      co_return NoSuchOrder();
    }
    if (auto refused = domain::CheckShip(*order, seller.user.id, item_ids, carrier, tracking_code))
      co_return std::move(*refused);
    co_await orders_.ShipItems(*tx, id, item_ids, carrier, tracking_code);
    for (std::int64_t item : item_ids) {
      co_await orders_.AddEvent(*tx, id, item, "item.shipped", Actor::kSeller, seller.user.id,
                                carrier + " " + tracking_code);
    }
    co_await tx->Commit();
  }
  co_return co_await Reload(seller, id);
}

Task<Result<domain::Order>> OrdersService::RefundItems(const Principal& seller, domain::OrderId id,
                                                       std::vector<std::int64_t> item_ids,
                                                       std::string reason) {
  std::vector<StockWant> returned;
  {
    auto tx = co_await db_.Begin();
    auto order = co_await orders_.Lock(*tx, id);
    if (!order) co_return NoSuchOrder();
    if (!SellsIn(*order, seller.user.id)) {
      if (order->buyer_id == seller.user.id)
        co_return MakeError(ErrorCode::kForbidden,
                            "Only the seller can refund their items; the buyer cancels the order.");
      co_return NoSuchOrder();
    }
    if (auto refused = domain::CheckRefundItems(*order, seller.user.id, item_ids, reason))
      co_return std::move(*refused);
    for (auto& item : order->items) {
      if (std::find(item_ids.begin(), item_ids.end(), item.id) == item_ids.end()) continue;
      returned.push_back(StockWant{.listing = item.listing_id, .quantity = item.quantity});
      item.status = domain::ItemStatus::kCancelled;
    }
    co_await orders_.RefundItems(*tx, *order, item_ids, "refunded_by_seller");
    co_await orders_.ReturnStock(*tx, returned);
    for (std::int64_t item : item_ids) {
      co_await orders_.AddEvent(*tx, id, item, "item.refunded", Actor::kSeller, seller.user.id,
                                reason);
    }
    co_await orders_.AddEvent(*tx, id, std::nullopt, "refund.requested", Actor::kSystem,
                              std::nullopt, "");
    bool all_cancelled =
        std::all_of(order->items.begin(), order->items.end(), [](const domain::OrderItem& item) {
          return item.status == domain::ItemStatus::kCancelled;
        });
    if (all_cancelled) {
      co_await orders_.SetStatus(*tx, id, OrderStatus::kCancelled);
      co_await orders_.AddEvent(*tx, id, std::nullopt, "order.cancelled", Actor::kSeller,
                                seller.user.id, "every item refunded");
    } else if (domain::AllDelivered(*order)) {
      co_await orders_.SetStatus(*tx, id, OrderStatus::kCompleted);
      co_await orders_.AddEvent(*tx, id, std::nullopt, "order.completed", Actor::kSystem,
                                std::nullopt, "");
    }
    co_await tx->Commit();
  }
  // The returned units can be sold again.
  co_await gate_.Release(returned);
  co_await payments_.SendRefunds(id);
  co_return co_await Reload(seller, id);
}

Task<Result<domain::Order>> OrdersService::Deliver(const Principal& caller, domain::OrderId id,
                                                   std::vector<std::int64_t> item_ids) {
  {
    auto tx = co_await db_.Begin();
    auto order = co_await orders_.Lock(*tx, id);
    if (!order) co_return NoSuchOrder();
    bool buyer = order->buyer_id == caller.user.id;
    if (!buyer && !SellsIn(*order, caller.user.id)) co_return NoSuchOrder();
    if (auto refused = domain::CheckDeliver(*order, caller.user.id, item_ids, clock_.Now(),
                                            options_.seller_delivery_after))
      co_return std::move(*refused);
    co_await orders_.DeliverItems(*tx, id, item_ids);
    Actor actor = buyer ? Actor::kBuyer : Actor::kSeller;
    for (std::int64_t item : item_ids) {
      co_await orders_.AddEvent(*tx, id, item, "item.delivered", actor, caller.user.id, "");
    }
    for (auto& item : order->items) {
      if (std::find(item_ids.begin(), item_ids.end(), item.id) != item_ids.end())
        item.status = domain::ItemStatus::kDelivered;
    }
    if (domain::AllDelivered(*order)) {
      co_await orders_.SetStatus(*tx, id, OrderStatus::kCompleted);
      co_await orders_.AddEvent(*tx, id, std::nullopt, "order.completed", actor, caller.user.id,
                                "");
    }
    co_await tx->Commit();
  }
  co_return co_await Reload(caller, id);
}

Task<int> OrdersService::ExpireDue(int limit) {
  std::vector<domain::Order> expired;
  {
    auto tx = co_await db_.Begin();
    expired = co_await orders_.LockExpired(*tx, limit);
    for (const auto& order : expired) {
      co_await orders_.SetStatus(*tx, order.id, OrderStatus::kExpired);
      co_await orders_.CancelItems(*tx, order.id);
      co_await orders_.AddEvent(*tx, order.id, std::nullopt, "order.expired", Actor::kSystem,
                                std::nullopt, "");
    }
    co_await tx->Commit();
  }
  for (const auto& order : expired) {
    co_await gate_.Release(StockOf(order));
    co_await payments_.CancelIntent(order);
  }
  co_return static_cast<int>(expired.size());
}

}  // namespace market::services
