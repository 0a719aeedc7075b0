// The order lifecycle rules of domain/orders, without I/O: who may cancel, ship and confirm
// delivery of what, and what a seller sees of an order.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "domain/orders/order.hpp"

namespace market::domain {
namespace {

using namespace std::chrono_literals;

constexpr UserId kBuyer{1};
constexpr UserId kSeller{2};
constexpr UserId kOtherSeller{3};
constexpr std::chrono::seconds kSellerAfter = std::chrono::hours(24 * 14);

const TimePoint kNow = TimePoint(std::chrono::hours(24 * 365 * 56));

OrderItem Item(std::int64_t id, UserId seller, ItemStatus status, std::int64_t price = 1000,
               int quantity = 1) {
  OrderItem item{.id = id,
                 .listing_id = ListingId{100 + id},
                 .seller_id = seller,
                 .title = "Item " + std::to_string(id),
                 .unit_price_cents = price,
                 .currency = "USD",
                 .quantity = quantity,
                 .status = status};
  if (status == ItemStatus::kShipped || status == ItemStatus::kDelivered) {
    item.carrier = "UPS";
    item.tracking_code = "1Z999";
    item.shipped_at = kNow - 1h;
  }
  if (status == ItemStatus::kDelivered) item.delivered_at = kNow;
  return item;
}

Order MakeOrder(OrderStatus status, std::vector<OrderItem> items, bool past_expiry = false) {
  Order order{.id = OrderId{7},
              .buyer_id = kBuyer,
              .stored_status = status,
              .past_expiry = past_expiry,
              .currency = "USD",
              .items = std::move(items)};
  for (const auto& item : order.items) order.total_cents += item.unit_price_cents * item.quantity;
  return order;
}

// A paid order: item 1 and 2 are the seller's, item 3 another seller's.
Order PaidOrder(ItemStatus first = ItemStatus::kAwaitingShipment,
                ItemStatus second = ItemStatus::kAwaitingShipment,
                ItemStatus third = ItemStatus::kAwaitingShipment) {
  return MakeOrder(OrderStatus::kPaid, {Item(1, kSeller, first), Item(2, kSeller, second),
                                        Item(3, kOtherSeller, third, 2500, 2)});
}

bool HasField(const Error& error, std::string_view field) {
  for (const auto& f : error.fields) {
    if (f.field == field) return true;
  }
  return false;
}

std::vector<std::int64_t> Ids(std::int64_t from, std::int64_t count) {
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < count; ++i) ids.push_back(from + i);
  return ids;
}

// ---- Status ----

TEST(OrderStatus, APendingOrderPastItsDeadlineIsExpired) {
  EXPECT_EQ(MakeOrder(OrderStatus::kPendingPayment, {}).Status(), OrderStatus::kPendingPayment);
  EXPECT_EQ(MakeOrder(OrderStatus::kPendingPayment, {}, true).Status(), OrderStatus::kExpired);
}

TEST(OrderStatus, OnlyPendingOrdersExpire) {
  for (auto status : {OrderStatus::kPaid, OrderStatus::kCompleted, OrderStatus::kCancelled,
                      OrderStatus::kExpired}) {
    EXPECT_EQ(MakeOrder(status, {}, true).Status(), status) << OrderStatusName(status);
  }
}

TEST(OrderStatus, NamesRoundTrip) {
  for (auto status : {OrderStatus::kPendingPayment, OrderStatus::kPaid, OrderStatus::kCompleted,
                      OrderStatus::kCancelled, OrderStatus::kExpired}) {
    EXPECT_EQ(ParseOrderStatus(OrderStatusName(status)), status);
  }
  for (auto status : {ItemStatus::kPendingPayment, ItemStatus::kAwaitingShipment,
                      ItemStatus::kShipped, ItemStatus::kDelivered, ItemStatus::kCancelled}) {
    EXPECT_EQ(ParseItemStatus(ItemStatusName(status)), status);
  }
  EXPECT_EQ(ParseOrderStatus("pending"), std::nullopt);
  EXPECT_EQ(ParseItemStatus("pending"), std::nullopt) << "renamed to pending_payment";
  EXPECT_EQ(ParseActor("provider"), Actor::kProvider);
  EXPECT_EQ(ParseActor("admin"), std::nullopt);
}

// ---- Cancel ----

TEST(CheckCancel, APendingOrderMayBeCancelled) {
  auto order =
      MakeOrder(OrderStatus::kPendingPayment, {Item(1, kSeller, ItemStatus::kPendingPayment)});
  EXPECT_FALSE(CheckCancel(order).has_value());
}

TEST(CheckCancel, APaidOrderWithNothingShippedMayBeCancelled) {
  EXPECT_FALSE(CheckCancel(PaidOrder()).has_value());
  // A line already cancelled does not count as shipped.
  EXPECT_FALSE(CheckCancel(PaidOrder(ItemStatus::kCancelled)).has_value());
}

TEST(CheckCancel, APaidOrderWithAnItemShippedOrDeliveredIsConflict) {
  for (auto shipped : {ItemStatus::kShipped, ItemStatus::kDelivered}) {
    auto refused = CheckCancel(
        PaidOrder(ItemStatus::kAwaitingShipment, ItemStatus::kAwaitingShipment, shipped));
    ASSERT_TRUE(refused.has_value()) << ItemStatusName(shipped);
    EXPECT_EQ(refused->code, ErrorCode::kConflict);
  }
}

TEST(CheckCancel, CompletedCancelledAndExpiredOrdersAreConflict) {
  for (auto status : {OrderStatus::kCompleted, OrderStatus::kCancelled, OrderStatus::kExpired}) {
    auto refused = CheckCancel(MakeOrder(status, {Item(1, kSeller, ItemStatus::kCancelled)}));
    ASSERT_TRUE(refused.has_value()) << OrderStatusName(status);
    EXPECT_EQ(refused->code, ErrorCode::kConflict);
  }
}

TEST(CheckCancel, APendingOrderPastItsDeadlineIsConflictBeforeTheSweep) {
  auto order = MakeOrder(OrderStatus::kPendingPayment,
                         {Item(1, kSeller, ItemStatus::kPendingPayment)}, true);
  auto refused = CheckCancel(order);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kConflict);
}

// ---- Ship ----

std::optional<Error> Ship(const Order& order, UserId seller, std::vector<std::int64_t> ids,
                          std::string carrier = "UPS", std::string tracking = "1Z999AA1") {
  return CheckShip(order, seller, ids, carrier, tracking);
}

// ---- Disputes ----

Order WithEvents(Order order, std::vector<std::string> types) {
  for (auto& type : types)
    order.events.push_back(OrderEvent{.type = std::move(type), .actor = Actor::kProvider});
  return order;
}

TEST(Disputed, AnOpenDisputePutsThePaidOrderOnHold) {
  Order order = WithEvents(PaidOrder(ItemStatus::kAwaitingShipment, ItemStatus::kShipped),
                           {"order.placed", "order.paid", "payment.disputed"});
  EXPECT_TRUE(Disputed(order));
  std::vector<std::optional<Error>> refusals;
  refusals.push_back(CheckCancel(order));
  refusals.push_back(Ship(order, kSeller, {1}));
  std::vector<std::int64_t> ids;
  refusals.push_back(CheckDeliver(order, kBuyer, ids, kNow, kSellerAfter));
  for (const auto& refused : refusals) {
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code, ErrorCode::kConflict);
    EXPECT_NE(refused->message.find("disputed"), std::string::npos) << refused->message;
  }
}

TEST(Disputed, AClosedDisputeLiftsTheHoldAndANewOneSetsItAgain) {
  Order order =
      WithEvents(PaidOrder(), {"order.paid", "payment.disputed", "payment.dispute_closed"});
  EXPECT_FALSE(Disputed(order));
  EXPECT_FALSE(Ship(order, kSeller, {1}).has_value());
  EXPECT_TRUE(Disputed(WithEvents(order, {"payment.disputed"})));
  EXPECT_FALSE(Disputed(PaidOrder()));
}

TEST(CheckShip, TheSellerShipsTheirItemsAwaitingShipment) {
  EXPECT_FALSE(Ship(PaidOrder(), kSeller, {1}).has_value());
  EXPECT_FALSE(Ship(PaidOrder(), kSeller, {2, 1}).has_value());
  EXPECT_FALSE(Ship(PaidOrder(), kOtherSeller, {3}).has_value());
}

TEST(CheckShip, NoItemsTooManyOrRepeatedItemsAreInvalid) {
  std::vector<std::vector<std::int64_t>> bad = {{}, Ids(1, 51), {1, 1}, {1, 2, 1}};
  for (const auto& ids : bad) {
    auto refused = Ship(PaidOrder(), kSeller, ids);
    ASSERT_TRUE(refused.has_value()) << ids.size();
    EXPECT_EQ(refused->code, ErrorCode::kValidationFailed);
    EXPECT_TRUE(HasField(*refused, "item_ids"));
  }
}

TEST(CheckShip, FiftyItemsAreAllowed) {
  std::vector<OrderItem> items;
  for (std::int64_t id = 1; id <= 50; ++id) {
    items.push_back(Item(id, kSeller, ItemStatus::kAwaitingShipment));
  }
  EXPECT_FALSE(Ship(MakeOrder(OrderStatus::kPaid, items), kSeller, Ids(1, 50)).has_value());
}

TEST(CheckShip, AnItemNotInTheOrderIsInvalid) {
  auto refused = Ship(PaidOrder(), kSeller, {1, 99});
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kValidationFailed);
  EXPECT_TRUE(HasField(*refused, "item_ids"));
}

TEST(CheckShip, AnotherSellersItemIsForbidden) {
  auto refused = Ship(PaidOrder(), kSeller, {1, 3});
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kForbidden);
  refused = Ship(PaidOrder(), kOtherSeller, {1});
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kForbidden);
}

TEST(CheckShip, AnOrderNotPaidIsConflict) {
  for (auto status : {OrderStatus::kPendingPayment, OrderStatus::kCancelled, OrderStatus::kExpired,
                      OrderStatus::kCompleted}) {
    auto order = MakeOrder(status, {Item(1, kSeller, ItemStatus::kAwaitingShipment)});
    auto refused = Ship(order, kSeller, {1});
    ASSERT_TRUE(refused.has_value()) << OrderStatusName(status);
    EXPECT_EQ(refused->code, ErrorCode::kConflict) << OrderStatusName(status);
  }
  auto unpaid =
      MakeOrder(OrderStatus::kPendingPayment, {Item(1, kSeller, ItemStatus::kPendingPayment)});
  auto refused = Ship(unpaid, kSeller, {1});
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kConflict);
}

TEST(CheckShip, AnItemNotAwaitingShipmentIsConflict) {
  for (auto status : {ItemStatus::kShipped, ItemStatus::kDelivered, ItemStatus::kCancelled,
                      ItemStatus::kPendingPayment}) {
    auto refused = Ship(PaidOrder(ItemStatus::kAwaitingShipment, status), kSeller, {1, 2});
    ASSERT_TRUE(refused.has_value()) << ItemStatusName(status);
    EXPECT_EQ(refused->code, ErrorCode::kConflict) << ItemStatusName(status);
  }
}

TEST(CheckShip, ABadCarrierIsInvalidWithItsField) {
  for (std::string carrier :
       {std::string(), std::string("   "), std::string(41, 'c'), std::string("UP\nS"),
        std::string("UP\x7fS"), std::string("\xff\xfe")}) {
    std::vector<std::int64_t> ids = {1};
    std::string tracking = "1Z999AA1";
    auto refused = CheckShip(PaidOrder(), kSeller, ids, carrier, tracking);
    ASSERT_TRUE(refused.has_value()) << carrier;
    EXPECT_EQ(refused->code, ErrorCode::kValidationFailed);
    EXPECT_TRUE(HasField(*refused, "carrier")) << carrier;
    EXPECT_FALSE(HasField(*refused, "tracking_code"));
  }
}

TEST(CheckShip, ACarrierOfFortyCharactersCountsCharactersNotBytes) {
  std::string carrier;
  for (int i = 0; i < 40; ++i) carrier += "\xc3\xa9";  // é, two bytes each
  std::vector<std::int64_t> ids = {1};
  std::string tracking = "1Z999AA1";
  EXPECT_FALSE(CheckShip(PaidOrder(), kSeller, ids, carrier, tracking).has_value());
}

TEST(CheckShip, ABadTrackingCodeIsInvalidWithItsField) {
  for (std::string tracking :
       {std::string(), std::string("abc"), std::string(41, '1'), std::string("1Z 999"),
        std::string("1Z_999"), std::string("1Z99\xc3\xa9")}) {
    std::vector<std::int64_t> ids = {1};
    std::string carrier = "UPS";
    auto refused = CheckShip(PaidOrder(), kSeller, ids, carrier, tracking);
    ASSERT_TRUE(refused.has_value()) << tracking;
    EXPECT_EQ(refused->code, ErrorCode::kValidationFailed);
    EXPECT_TRUE(HasField(*refused, "tracking_code")) << tracking;
  }
}

TEST(CheckShip, BothBadFieldsAreReportedTogether) {
  std::vector<std::int64_t> ids = {1};
  std::string carrier = "";
  std::string tracking = "x";
  auto refused = CheckShip(PaidOrder(), kSeller, ids, carrier, tracking);
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(HasField(*refused, "carrier"));
  EXPECT_TRUE(HasField(*refused, "tracking_code"));
}

TEST(CheckShip, CarrierAndTrackingCodeAreTrimmed) {
  std::vector<std::int64_t> ids = {1};
  std::string carrier = "  DHL Express \t";
  std::string tracking = " \t1Z-999-AA1  ";
  EXPECT_FALSE(CheckShip(PaidOrder(), kSeller, ids, carrier, tracking).has_value());
  EXPECT_EQ(carrier, "DHL Express");
  EXPECT_EQ(tracking, "1Z-999-AA1");
  // Trimming decides the length: four characters once trimmed is enough.
  std::string padded = "   AB12   ";
  EXPECT_FALSE(CheckShip(PaidOrder(), kSeller, ids, carrier, padded).has_value());
  EXPECT_EQ(padded, "AB12");
}

// ---- Deliver ----

std::optional<Error> Deliver(const Order& order, UserId caller, std::vector<std::int64_t>& ids,
                             TimePoint now = kNow) {
  return CheckDeliver(order, caller, ids, now, kSellerAfter);
}

TEST(CheckDeliver, TheBuyerConfirmsEveryShippedItemByDefault) {
  auto order = PaidOrder(ItemStatus::kShipped, ItemStatus::kAwaitingShipment, ItemStatus::kShipped);
  std::vector<std::int64_t> ids;
  EXPECT_FALSE(Deliver(order, kBuyer, ids).has_value());
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 3}));
}

TEST(CheckDeliver, TheBuyerMayConfirmChosenShippedItemsAtOnce) {
  auto order = PaidOrder(ItemStatus::kShipped, ItemStatus::kShipped);
  std::vector<std::int64_t> ids = {2};
  EXPECT_FALSE(Deliver(order, kBuyer, ids).has_value());
  EXPECT_EQ(ids, std::vector<std::int64_t>{2});
}

TEST(CheckDeliver, NothingShippedIsConflict) {
  std::vector<std::int64_t> ids;
  auto refused = Deliver(PaidOrder(), kBuyer, ids);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kConflict);
}

TEST(CheckDeliver, AnItemNotShippedIsConflict) {
  for (auto status : {ItemStatus::kAwaitingShipment, ItemStatus::kDelivered, ItemStatus::kCancelled,
                      ItemStatus::kPendingPayment}) {
    auto order = PaidOrder(ItemStatus::kShipped, status);
    std::vector<std::int64_t> ids = {1, 2};
    auto refused = Deliver(order, kBuyer, ids);
    ASSERT_TRUE(refused.has_value()) << ItemStatusName(status);
    EXPECT_EQ(refused->code, ErrorCode::kConflict);
  }
}

TEST(CheckDeliver, UnknownOrRepeatedItemsAreInvalid) {
  auto order = PaidOrder(ItemStatus::kShipped, ItemStatus::kShipped);
  for (std::vector<std::int64_t> ids :
       {std::vector<std::int64_t>{1, 99}, std::vector<std::int64_t>{1, 1}, Ids(1, 51)}) {
    auto refused = Deliver(order, kBuyer, ids);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code, ErrorCode::kValidationFailed);
    EXPECT_TRUE(HasField(*refused, "item_ids"));
  }
}

TEST(CheckDeliver, TheSellerMayNotConfirmBeforeTheWaitingTime) {
  auto order = PaidOrder(ItemStatus::kShipped);
  std::vector<std::int64_t> ids = {1};
  // Shipped an hour before kNow: 14 days less an hour and a second later is still too early.
  auto refused = Deliver(order, kSeller, ids, kNow + kSellerAfter - 1h - 1s);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kConflict);
  std::vector<std::int64_t> all;
  refused = Deliver(order, kSeller, all);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kConflict);
}

TEST(CheckDeliver, TheSellerMayConfirmTheirTrackedItemsOnceTheWaitingTimeHasPassed) {
  auto order = PaidOrder(ItemStatus::kShipped, ItemStatus::kShipped, ItemStatus::kShipped);
  std::vector<std::int64_t> ids = {1};
  EXPECT_FALSE(Deliver(order, kSeller, ids, kNow + kSellerAfter - 1h).has_value());
  std::vector<std::int64_t> all;
  EXPECT_FALSE(Deliver(order, kSeller, all, kNow + kSellerAfter).has_value());
  EXPECT_EQ(all, (std::vector<std::int64_t>{1, 2})) << "only the seller's own shipped items";
}

TEST(CheckDeliver, TheSellerNeedsATrackingCodeAndAShippingTime) {
  auto order = PaidOrder(ItemStatus::kShipped);
  order.items[0].tracking_code.reset();
  std::vector<std::int64_t> ids = {1};
  auto refused = Deliver(order, kSeller, ids, kNow + kSellerAfter * 2);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kConflict);
  order = PaidOrder(ItemStatus::kShipped);
  order.items[0].shipped_at.reset();
  refused = Deliver(order, kSeller, ids, kNow + kSellerAfter * 2);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kConflict);
}

TEST(CheckDeliver, TheSellerMayNotConfirmAnotherSellersItem) {
  auto order = PaidOrder(ItemStatus::kShipped, ItemStatus::kShipped, ItemStatus::kShipped);
  std::vector<std::int64_t> ids = {3};
  auto refused = Deliver(order, kSeller, ids, kNow + kSellerAfter * 2);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kForbidden);
}

TEST(CheckDeliver, ASellerWithNothingShippedOfTheirOwnHasNothingToConfirm) {
  auto order =
      PaidOrder(ItemStatus::kAwaitingShipment, ItemStatus::kAwaitingShipment, ItemStatus::kShipped);
  std::vector<std::int64_t> ids;
  auto refused = Deliver(order, kSeller, ids, kNow + kSellerAfter * 2);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kConflict);
}

// ---- AllDelivered ----

TEST(AllDelivered, EveryLineNotCancelledMustBeDelivered) {
  EXPECT_TRUE(AllDelivered(
      PaidOrder(ItemStatus::kDelivered, ItemStatus::kDelivered, ItemStatus::kDelivered)));
  EXPECT_TRUE(AllDelivered(
      PaidOrder(ItemStatus::kDelivered, ItemStatus::kCancelled, ItemStatus::kDelivered)));
  EXPECT_FALSE(AllDelivered(
      PaidOrder(ItemStatus::kDelivered, ItemStatus::kShipped, ItemStatus::kDelivered)));
  EXPECT_FALSE(AllDelivered(
      PaidOrder(ItemStatus::kDelivered, ItemStatus::kAwaitingShipment, ItemStatus::kCancelled)));
}

TEST(AllDelivered, AnOrderWithNothingDeliveredIsNot) {
  EXPECT_FALSE(AllDelivered(
      PaidOrder(ItemStatus::kCancelled, ItemStatus::kCancelled, ItemStatus::kCancelled)));
  EXPECT_FALSE(AllDelivered(MakeOrder(OrderStatus::kPaid, {})));
}

// ---- SellerView ----

TEST(SellerView, ShowsOnlyTheSellersLinesAndTotalsThem) {
  auto order = PaidOrder();
  ASSERT_EQ(order.total_cents, 1000 + 1000 + 2 * 2500);
  auto mine = SellerView(order, kSeller);
  ASSERT_EQ(mine.items.size(), 2u);
  EXPECT_EQ(mine.items[0].id, 1);
  EXPECT_EQ(mine.items[1].id, 2);
  EXPECT_EQ(mine.total_cents, 2000);
  auto theirs = SellerView(order, kOtherSeller);
  ASSERT_EQ(theirs.items.size(), 1u);
  EXPECT_EQ(theirs.items[0].id, 3);
  EXPECT_EQ(theirs.total_cents, 5000);
  EXPECT_TRUE(SellerView(order, kBuyer).items.empty());
  EXPECT_EQ(SellerView(order, kBuyer).total_cents, 0);
}

TEST(SellerView, HidesTheEventsOfOtherSellersLines) {
  auto order = PaidOrder(ItemStatus::kShipped, ItemStatus::kAwaitingShipment, ItemStatus::kShipped);
  order.events = {OrderEvent{.type = "order.placed", .actor = Actor::kBuyer},
                  OrderEvent{.type = "order.paid", .actor = Actor::kProvider},
                  OrderEvent{.item_id = 1, .type = "item.shipped", .actor = Actor::kSeller},
                  OrderEvent{.item_id = 3, .type = "item.shipped", .actor = Actor::kSeller}};
  auto mine = SellerView(order, kSeller);
  ASSERT_EQ(mine.events.size(), 3u);
  EXPECT_EQ(mine.events[0].type, "order.placed");
  EXPECT_EQ(mine.events[1].type, "order.paid");
  EXPECT_EQ(mine.events[2].item_id, std::optional<std::int64_t>(1));
  auto theirs = SellerView(order, kOtherSeller);
  ASSERT_EQ(theirs.events.size(), 3u);
  EXPECT_EQ(theirs.events[2].item_id, std::optional<std::int64_t>(3));
}

TEST(SellerView, KeepsTheOrderAsAWhole) {
  auto order = PaidOrder();
  order.buyer_username = "ada";
  order.shipping_address.city = "Springfield";
  auto mine = SellerView(order, kSeller);
  EXPECT_EQ(mine.id, order.id);
  EXPECT_EQ(mine.Status(), OrderStatus::kPaid);
  EXPECT_EQ(mine.buyer_username, "ada");
  EXPECT_EQ(mine.shipping_address.city, "Springfield");
}

CheckoutLine Line(std::int64_t listing, int quantity) {
  return CheckoutLine{.listing_id = ListingId{listing},
                      .quantity = quantity,
                      .seller_id = UserId{7},
                      .unit_price_cents = 1500,
                      .currency = "USD",
                      .active = true,
                      .stock = 10,
                      .reserved = 0};
}

LockedStock Locked(std::int64_t listing, int stock, int reserved_with_ours) {
  return LockedStock{.listing = ListingId{listing},
                     .seller_id = UserId{7},
                     .unit_price_cents = 1500,
                     .active = true,
                     .stock = stock,
                     .reserved = reserved_with_ours};
}

TEST(CheckLocked, TheOrdersOwnLinesDoNotCountAgainstIt) {
  // Stock 5: 3 reserved by others plus our 2 fit exactly.
  EXPECT_FALSE(CheckLocked({Line(1, 2)}, {Locked(1, 5, 5)}, UserId{9}));
}

TEST(CheckLocked, ReservationsBeyondTheStockAreConflictNamingTheLine) {
  auto refused =
      CheckLocked({Line(1, 2), Line(2, 1)}, {Locked(1, 5, 6), Locked(2, 1, 1)}, UserId{9});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, ErrorCode::kConflict);
  ASSERT_EQ(refused->fields.size(), 1u);
  EXPECT_EQ(refused->fields[0], (FieldError{"cart.1", "only 1 available"}));
}

TEST(CheckLocked, AListingChangedBeforeTheLockIsConflict) {
  LockedStock repriced = Locked(1, 5, 1);
  repriced.unit_price_cents = 1600;
  LockedStock withdrawn = Locked(1, 5, 1);
  withdrawn.active = false;
  for (const auto& locked : {repriced, withdrawn}) {
    auto refused = CheckLocked({Line(1, 1)}, {locked}, UserId{9});
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code, ErrorCode::kConflict);
  }
  EXPECT_TRUE(CheckLocked({Line(1, 1)}, {}, UserId{9})) << "a listing that is gone";
}

}  // namespace
}  // namespace market::domain
