#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"
#include "domain/addresses/address.hpp"

namespace market::domain {

using OrderId = StrongId<struct OrderTag>;

enum class OrderStatus { kPendingPayment, kPaid, kCompleted, kCancelled, kExpired };
std::string_view OrderStatusName(OrderStatus status);
std::optional<OrderStatus> ParseOrderStatus(std::string_view text);

// Each line is fulfilled on its own: its seller ships it, the buyer confirms delivery.
enum class ItemStatus { kPendingPayment, kAwaitingShipment, kShipped, kDelivered, kCancelled };
std::string_view ItemStatusName(ItemStatus status);
std::optional<ItemStatus> ParseItemStatus(std::string_view text);

// Who made a transition.
enum class Actor { kBuyer, kSeller, kSystem, kProvider };
std::string_view ActorName(Actor actor);
std::optional<Actor> ParseActor(std::string_view text);

struct OrderItem {
  std::int64_t id = 0;
  ListingId listing_id;
  UserId seller_id;
  std::string seller_username;
  std::string seller_display_name;
  std::string title;
  std::int64_t unit_price_cents = 0;
  std::string currency;
  int quantity = 0;
  std::optional<std::string> image_key;
  ItemStatus status = ItemStatus::kPendingPayment;
  std::optional<std::string> carrier;
  std::optional<std::string> tracking_code;
  std::optional<TimePoint> shipped_at;
  std::optional<TimePoint> delivered_at;
};

struct OrderEvent {
  std::optional<std::int64_t> item_id;
  std::string type;
  Actor actor = Actor::kSystem;
  TimePoint at;
};

struct Refund {
  std::int64_t amount_cents = 0;
  std::string currency;
  std::string reason;
  std::string status;  // pending | succeeded
  // The line it refunds; none for a refund of the whole payment.
  std::optional<std::int64_t> item_id;
  TimePoint created_at;
};

struct Order {
  OrderId id;
  UserId buyer_id;
  std::string buyer_username;
  std::string buyer_display_name;
  // As stored. Status() is what callers should show and act on.
  OrderStatus stored_status = OrderStatus::kPendingPayment;
  bool past_expiry = false;  // expires_at has passed (per the database clock)
  std::string currency;
  std::int64_t total_cents = 0;
  ShippingAddress shipping_address;
  std::optional<std::string> payment_provider;
  std::optional<std::string> payment_intent_id;
  std::optional<TimePoint> paid_at;
  TimePoint expires_at;
  TimePoint created_at;
  TimePoint updated_at;
  std::vector<OrderItem> items;
  std::vector<Refund> refunds;
  std::vector<OrderEvent> events;

  // An unpaid order past its deadline is expired even before the sweep has marked it.
  OrderStatus Status() const {
    return stored_status == OrderStatus::kPendingPayment && past_expiry ? OrderStatus::kExpired
                                                                        : stored_status;
  }
};

// What a seller may see of an order: their own lines, what those come to, and the events of the
// order as a whole or of their lines. Empty items: the seller has no line in it.
Order SellerView(Order order, UserId seller);

// Whether the payment is disputed now (a payment.disputed event not followed by
// payment.dispute_closed): the order is on hold, and cancel, ship and deliver are refused.
bool Disputed(const Order& order);

// The lifecycle rules. Each answers why a transition is refused (kConflict for the wrong state,
// kForbidden / kValidationFailed for the wrong items), or nothing when it may go ahead.
std::optional<Error> CheckCancel(const Order& order);
// `item_ids` are the seller's picks: unique, 1..50, all in the order, all theirs, all awaiting
// shipment. Carrier and tracking code are trimmed in place.
std::optional<Error> CheckShip(const Order& order, UserId seller,
                               const std::vector<std::int64_t>& item_ids, std::string& carrier,
                               std::string& tracking_code);
// A seller refunds lines they cannot ship: `item_ids` as for CheckShip (the order paid, the lines
// theirs and awaiting shipment); `reason` is trimmed in place and may be empty, at most 200
// characters on one line.
std::optional<Error> CheckRefundItems(const Order& order, UserId seller,
                                      const std::vector<std::int64_t>& item_ids,
                                      std::string& reason);
// The buyer confirms delivery of shipped items; the seller may too, for their own shipped items,
// once `seller_after` has passed since shipping. Empty `item_ids`: every shipped item the caller
// may confirm. On success `item_ids` holds the items to mark delivered.
std::optional<Error> CheckDeliver(const Order& order, UserId caller,
                                  std::vector<std::int64_t>& item_ids, TimePoint now,
                                  std::chrono::seconds seller_after);
// Whether every line not cancelled has been delivered.
bool AllDelivered(const Order& order);

// One cart line at checkout, with its listing as locked in the checkout transaction.
struct CheckoutLine {
  ListingId listing_id;
  int quantity = 0;  // wanted
  UserId seller_id;
  std::string seller_username;
  std::string seller_display_name;
  std::string title;
  std::int64_t unit_price_cents = 0;
  std::string currency;
  bool active = false;
  int stock = 0;     // listings.quantity
  int reserved = 0;  // held by other unexpired pending orders
  std::optional<std::string> image_key;
};

// Why these lines cannot become an order for `buyer` (kValidationFailed for an empty cart,
// kConflict naming each listing that is not for sale or short of stock), or nothing.
std::optional<Error> CheckCheckout(const std::vector<CheckoutLine>& lines, UserId buyer);
std::int64_t OrderTotal(const std::vector<CheckoutLine>& lines);

// A listing as read under its row lock, after the order's own lines were written in the same
// transaction: `reserved` includes them.
struct LockedStock {
  ListingId listing;
  UserId seller_id;
  std::int64_t unit_price_cents = 0;
  bool active = false;
  int stock = 0;
  int reserved = 0;
};

// Whether the order made of `lines` (read before the locks) still stands under them: every
// listing unchanged in price, seller and status, and none reserved beyond its stock. kConflict
// otherwise, naming each line, as CheckCheckout does.
std::optional<Error> CheckLocked(const std::vector<CheckoutLine>& lines,
                                 const std::vector<LockedStock>& locked, UserId buyer);

}  // namespace market::domain
