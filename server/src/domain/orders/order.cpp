#include "domain/orders/order.hpp"

#include <algorithm>
#include <cctype>

#include "common/text.hpp"
#include "domain/users/user.hpp"

namespace market::domain {
namespace {

constexpr OrderStatus kOrderStatuses[] = {OrderStatus::kPendingPayment, OrderStatus::kPaid,
                                          OrderStatus::kCompleted, OrderStatus::kCancelled,
                                          OrderStatus::kExpired};
constexpr ItemStatus kItemStatuses[] = {ItemStatus::kPendingPayment, ItemStatus::kAwaitingShipment,
                                        ItemStatus::kShipped, ItemStatus::kDelivered,
                                        ItemStatus::kCancelled};
constexpr Actor kActors[] = {Actor::kBuyer, Actor::kSeller, Actor::kSystem, Actor::kProvider};
constexpr std::size_t kMaxItemsPerAction = 50;

template <typename Enum, std::size_t N, typename NameOf>
std::optional<Enum> ParseName(const Enum (&all)[N], NameOf name_of, std::string_view text) {
  for (Enum value : all) {
    if (name_of(value) == text) return value;
  }
  return std::nullopt;
}

Error Conflict(std::string message) { return MakeError(ErrorCode::kConflict, std::move(message)); }

Error ItemsError(std::string message) {
  return Error{.code = ErrorCode::kValidationFailed,
               .message = message,
               .fields = {{"item_ids", std::move(message)}}};
}

const OrderItem* FindItem(const Order& order, std::int64_t id) {
  for (const auto& item : order.items) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

// Unique, 1 to 50 of them.
std::optional<Error> CheckItemIds(const std::vector<std::int64_t>& ids) {
  if (ids.empty() || ids.size() > kMaxItemsPerAction) return ItemsError("must list 1 to 50 items");
  std::vector<std::int64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return ItemsError("must not repeat an item");
  return std::nullopt;
}

}  // namespace

std::string_view OrderStatusName(OrderStatus status) {
  switch (status) {
    case OrderStatus::kPendingPayment:
      return "pending_payment";
    case OrderStatus::kPaid:
      return "paid";
    case OrderStatus::kCompleted:
      return "completed";
    case OrderStatus::kCancelled:
      return "cancelled";
    case OrderStatus::kExpired:
      return "expired";
  }
  return "pending_payment";
}

std::optional<OrderStatus> ParseOrderStatus(std::string_view text) {
  return ParseName(kOrderStatuses, OrderStatusName, text);
}

std::string_view ItemStatusName(ItemStatus status) {
  switch (status) {
    case ItemStatus::kPendingPayment:
      return "pending_payment";
    case ItemStatus::kAwaitingShipment:
      return "awaiting_shipment";
    case ItemStatus::kShipped:
      return "shipped";
    case ItemStatus::kDelivered:
      return "delivered";
    case ItemStatus::kCancelled:
      return "cancelled";
  }
  return "pending_payment";
}

std::optional<ItemStatus> ParseItemStatus(std::string_view text) {
  return ParseName(kItemStatuses, ItemStatusName, text);
}

std::string_view ActorName(Actor actor) {
  switch (actor) {
    case Actor::kBuyer:
      return "buyer";
    case Actor::kSeller:
      return "seller";
    case Actor::kSystem:
      return "system";
    case Actor::kProvider:
      return "provider";
  }
  return "system";
}

std::optional<Actor> ParseActor(std::string_view text) {
  return ParseName(kActors, ActorName, text);
}

Order SellerView(Order order, UserId seller) {
  std::erase_if(order.items, [seller](const OrderItem& item) { return item.seller_id != seller; });
  order.total_cents = 0;
  for (const auto& item : order.items) order.total_cents += item.unit_price_cents * item.quantity;
  std::erase_if(order.events, [&order](const OrderEvent& event) {
    return event.item_id && FindItem(order, *event.item_id) == nullptr;
  });
  std::erase_if(order.refunds, [&order](const Refund& refund) {
    return refund.item_id && FindItem(order, *refund.item_id) == nullptr;
  });
  return order;
}

bool Disputed(const Order& order) {
  bool disputed = false;
  for (const auto& event : order.events) {
    if (event.type == "payment.disputed") disputed = true;
    if (event.type == "payment.dispute_closed") disputed = false;
  }
  return disputed;
}

namespace {

Error OnHold() {
  return Conflict("This order's payment is disputed: it is on hold until the dispute is settled.");
}

// The items are the seller's, the order is paid and they all await shipment.
std::optional<Error> CheckSellersUnshipped(const Order& order, UserId seller,
                                           const std::vector<std::int64_t>& item_ids,
                                           const std::string& verb, const std::string& done) {
  for (std::int64_t id : item_ids) {
    const OrderItem* item = FindItem(order, id);
    if (item == nullptr) return ItemsError("item " + std::to_string(id) + " is not in this order");
    if (item->seller_id != seller)
      return MakeError(ErrorCode::kForbidden,
                       "Item " + std::to_string(id) + " is another seller's to " + verb + ".");
  }
  if (order.Status() != OrderStatus::kPaid)
    return Conflict("Only the items of a paid order can be " + done + ".");
  for (std::int64_t id : item_ids) {
    if (FindItem(order, id)->status != ItemStatus::kAwaitingShipment)
      return Conflict("Item " + std::to_string(id) + " is not awaiting shipment.");
  }
  return std::nullopt;
}

}  // namespace

std::optional<Error> CheckCancel(const Order& order) {
  if (Disputed(order)) return OnHold();
  switch (order.Status()) {
    case OrderStatus::kPendingPayment:
      return std::nullopt;
    case OrderStatus::kPaid:
      for (const auto& item : order.items) {
        if (item.status == ItemStatus::kShipped || item.status == ItemStatus::kDelivered)
          return Conflict("Part of this order has shipped: it can no longer be cancelled.");
      }
      return std::nullopt;
    case OrderStatus::kCompleted:
      return Conflict("This order has been delivered: it can no longer be cancelled.");
    case OrderStatus::kCancelled:
      return Conflict("This order is already cancelled.");
    case OrderStatus::kExpired:
      return Conflict("This order expired unpaid.");
  }
  return Conflict("This order cannot be cancelled.");
}

std::optional<Error> CheckShip(const Order& order, UserId seller,
                               const std::vector<std::int64_t>& item_ids, std::string& carrier,
                               std::string& tracking_code) {
  if (Disputed(order)) return OnHold();
  if (auto bad = CheckItemIds(item_ids)) return bad;
  std::vector<FieldError> fields;
  carrier = std::string(Trim(carrier));
  tracking_code = std::string(Trim(tracking_code));
  auto carrier_length = Utf8Length(carrier);
  if (!carrier_length || *carrier_length == 0 || *carrier_length > 40 ||
      std::any_of(carrier.begin(), carrier.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    fields.push_back({"carrier", "must be 1 to 40 characters on one line"});
  if (tracking_code.size() < 4 || tracking_code.size() > 40 ||
      !std::all_of(tracking_code.begin(), tracking_code.end(),
                   [](unsigned char c) { return std::isalnum(c) != 0 || c == '-'; }))
    fields.push_back({"tracking_code", "must be 4 to 40 letters, digits or dashes"});
  if (!fields.empty()) return ValidationError(std::move(fields));

  return CheckSellersUnshipped(order, seller, item_ids, "ship", "shipped");
}

std::optional<Error> CheckRefundItems(const Order& order, UserId seller,
                                      const std::vector<std::int64_t>& item_ids,
                                      std::string& reason) {
  if (Disputed(order)) return OnHold();
  if (auto bad = CheckItemIds(item_ids)) return bad;
  reason = std::string(Trim(reason));
  auto length = Utf8Length(reason);
  if (!length || *length > 200 || std::any_of(reason.begin(), reason.end(), [](unsigned char c) {
        return c < 0x20 || c == 0x7f;
      }))
    return ValidationError({{"reason", "must be at most 200 characters on one line"}});
  return CheckSellersUnshipped(order, seller, item_ids, "refund", "refunded");
}

std::optional<Error> CheckDeliver(const Order& order, UserId caller,
                                  std::vector<std::int64_t>& item_ids, TimePoint now,
                                  std::chrono::seconds seller_after) {
  if (Disputed(order)) return OnHold();
  bool buyer = order.buyer_id == caller;
  if (item_ids.empty()) {
    for (const auto& item : order.items) {
      if (item.status == ItemStatus::kShipped && (buyer || item.seller_id == caller))
        item_ids.push_back(item.id);
    }
    if (item_ids.empty()) return Conflict("Nothing in this order is out for delivery.");
  }
  if (auto bad = CheckItemIds(item_ids)) return bad;
  for (std::int64_t id : item_ids) {
    const OrderItem* item = FindItem(order, id);
    if (item == nullptr) return ItemsError("item " + std::to_string(id) + " is not in this order");
    if (!buyer && item->seller_id != caller)
      return MakeError(ErrorCode::kForbidden, "Item " + std::to_string(id) + " is not yours.");
    if (item->status != ItemStatus::kShipped)
      return Conflict("Item " + std::to_string(id) + " has not been shipped or is delivered.");
    if (!buyer &&
        (!item->tracking_code || !item->shipped_at || now < *item->shipped_at + seller_after))
      return Conflict("The buyer confirms delivery; a seller may only once " +
                      std::to_string(seller_after.count() / 86400) +
                      " days have passed since shipping with tracking.");
  }
  return std::nullopt;
}

bool AllDelivered(const Order& order) {
  bool any = false;
  for (const auto& item : order.items) {
    if (item.status == ItemStatus::kCancelled) continue;
    if (item.status != ItemStatus::kDelivered) return false;
    any = true;
  }
  return any;
}

std::optional<Error> CheckCheckout(const std::vector<CheckoutLine>& lines, UserId buyer) {
  if (lines.empty()) {
    return Error{.code = ErrorCode::kValidationFailed,
                 .message = "The cart is empty.",
                 .fields = {{"cart", "is empty"}}};
  }
  std::vector<FieldError> problems;
  for (const auto& line : lines) {
    std::string field = "cart." + std::to_string(line.listing_id.value);
    if (line.seller_id == buyer) {
      problems.push_back({field, "is your own listing"});
    } else if (!line.active) {
      problems.push_back({field, "is not for sale any more"});
    } else if (line.quantity > line.stock - line.reserved) {
      int left = std::max(0, line.stock - line.reserved);
      problems.push_back({field, "only " + std::to_string(left) + " available"});
    }
  }
  if (problems.empty()) return std::nullopt;
  return Error{.code = ErrorCode::kConflict,
               .message = "Some items in the cart cannot be bought as they are.",
               .fields = std::move(problems)};
}

std::optional<Error> CheckLocked(const std::vector<CheckoutLine>& lines,
                                 const std::vector<LockedStock>& locked, UserId buyer) {
  std::vector<CheckoutLine> now;
  now.reserve(lines.size());
  for (const auto& line : lines) {
    auto found = std::find_if(locked.begin(), locked.end(), [&line](const LockedStock& stock) {
      return stock.listing == line.listing_id;
    });
    if (found == locked.end() || found->unit_price_cents != line.unit_price_cents ||
        found->seller_id != line.seller_id || found->active != line.active)
      return Conflict("A listing in the cart changed during checkout: look it over and try again.");
    CheckoutLine current = line;
    current.stock = found->stock;
    current.reserved = found->reserved - line.quantity;  // the others' reservations
    now.push_back(std::move(current));
  }
  return CheckCheckout(now, buyer);
}

std::int64_t OrderTotal(const std::vector<CheckoutLine>& lines) {
  std::int64_t total = 0;
  for (const auto& line : lines) total += line.unit_price_cents * line.quantity;
  return total;
}

}  // namespace market::domain
