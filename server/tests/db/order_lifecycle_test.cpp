// The order lifecycle against the real PostgreSQL and Redis, with the local gateway as the payment
// provider: payments arrive as signed webhook events built like the gateway builds them, each
// applied exactly once; expiry, cancellation, shipping and delivery keep the stock in
// listings.quantity, the Redis counters and the money in agreement under concurrency.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <set>
#include <stdexcept>

#include "auth/webhook_signature.hpp"
#include "clients/payments/local_gateway.hpp"
#include "db/db_support.hpp"
#include "db/order_support.hpp"
#include "db/users_support.hpp"
#include "services/cart/cart_service.hpp"
#include "services/orders/checkout_service.hpp"
#include "services/orders/orders_service.hpp"
#include "services/payments/payments_service.hpp"
#include "storage/pg/carts_repository.hpp"
#include "storage/pg/jobs_repository.hpp"
#include "storage/pg/listings_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/orders_repository.hpp"
#include "storage/pg/params.hpp"
#include "storage/pg/pool.hpp"
#include "storage/redis/stock_gate.hpp"

namespace market {
namespace {

namespace json = boost::json;
using domain::ItemStatus;
using domain::Order;
using domain::OrderId;
using domain::OrderStatus;
using services::PaymentSession;
using services::Principal;
using namespace std::chrono_literals;

constexpr std::string_view kSecret = "whsec_order_lifecycle_test_secret";
constexpr std::string_view kGoodCard = "4242 4242 4242 4242";
constexpr std::string_view kDeclinedCard = "4000 0000 0000 0002";

class ManualClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now() + offset; }
  std::chrono::seconds offset{0};
};

std::int64_t GoodYear() {
  const std::chrono::year_month_day today{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  return static_cast<int>(today.year()) + 3;
}

// What a webhook event says about a payment intent.
struct IntentEvent {
  std::string type = "payment_intent.succeeded";
  std::string intent_id;
  std::int64_t amount = 0;
  std::string currency = "usd";
  std::optional<std::int64_t> order;
  std::optional<std::string> failure_code;
};

// An event as the local gateway writes it (MakeEvent and IntentJson in local_gateway.cpp):
// Stripe's event envelope around Stripe's PaymentIntent object.
std::string EventBody(const std::string& event_id, const IntentEvent& spec) {
  json::value last_error = nullptr;
  if (spec.failure_code) {
    last_error = json::object{{"code", *spec.failure_code}, {"message", "Your card was declined."}};
  }
  json::object metadata;
  if (spec.order) metadata["order_id"] = std::to_string(*spec.order);
  const bool paid = spec.type == "payment_intent.succeeded";
  json::object intent{{"id", spec.intent_id},
                      {"object", "payment_intent"},
                      {"amount", spec.amount},
                      {"amount_received", paid ? spec.amount : 0},
                      {"currency", spec.currency},
                      {"status", paid ? "succeeded" : "requires_payment_method"},
                      {"metadata", std::move(metadata)},
                      {"last_payment_error", std::move(last_error)}};
  return json::serialize(json::object{{"id", event_id},
                                      {"object", "event"},
                                      {"type", spec.type},
                                      {"created", UnixNow()},
                                      {"livemode", false},
                                      {"data", json::object{{"object", std::move(intent)}}}});
}

std::string NewEventId() { return "evt_test_" + RandomSuffix(); }

std::string Sign(std::string_view body, std::string_view secret = kSecret,
                 std::int64_t at = UnixNow()) {
  return auth::SignWebhook(secret, at, body);
}

std::vector<std::string> Types(const Order& order) {
  std::vector<std::string> types;
  for (const auto& event : order.events) types.push_back(event.type);
  return types;
}

// Plain coroutine functions, not lambdas: their arguments live in their own frames.
Task<void> WebhookInto(services::PaymentsService& payments, std::string signature, std::string body,
                       std::optional<Result<void>>& out) {
  out.emplace(co_await payments.HandleWebhook(signature, body));
}

Task<void> CancelInto(services::OrdersService& orders, Principal buyer, OrderId id,
                      std::optional<Result<Order>>& out) {
  out.emplace(co_await orders.Cancel(buyer, id));
}

Task<void> ExpireInto(services::OrdersService& orders, int limit, std::optional<int>& out) {
  out.emplace(co_await orders.ExpireDue(limit));
}

Task<void> StartInto(services::PaymentsService& payments, Principal buyer, OrderId id,
                     std::optional<Result<PaymentSession>>& out) {
  out.emplace(co_await payments.StartPayment(buyer, id));
}

class OrderLifecycleTest : public ::testing::Test {
 protected:
  OrderLifecycleTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 8}),
        redis_(io_.get_executor(), redis::ParseRedisUrl(TestRedisUrl())),
        gate_(redis_, redis::StockGateOptions{.key_prefix = UniqueRedisKey("lifecycle", "stock:")}),
        jobs_queue_(pool_),
        gateway_(pool_, jobs_queue_,
                 clients::LocalGatewayOptions{.webhook_url = "http://127.0.0.1:1/",
                                              .webhook_secret = std::string(kSecret)},
                 clock_),
        listings_(pool_),
        carts_(pool_),
        orders_(pool_),
        cart_(carts_, listings_),
        checkout_(pool_, orders_, gate_, clock_, services::CheckoutOptions{}),
        payments_(pool_, orders_, gate_, gateway_, clock_),
        orders_service_(pool_, orders_, gate_, payments_, clock_, services::OrdersOptions{}) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
  }

  // The gateway's own deliveries (to a port where nobody listens) end, and what is left of them
  // is given up, so that no other deliverer picks up this test's events.
  void TearDown() override {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    io_.restart();
    while (gateway_.deliveries_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_until(deadline);
    }
    if (!intents_.empty()) {
      Query(
          "UPDATE local_webhook_events SET failed_at = now() WHERE intent_id = ANY($1::text[]) "
          "AND delivered_at IS NULL AND failed_at IS NULL",
          TextArray(intents_));
      Query(
          "DELETE FROM jobs WHERE kind = 'deliver_webhooks' AND payload->>'event_id' IN (SELECT "
          "id FROM local_webhook_events WHERE intent_id = ANY($1::text[]))",
          TextArray(intents_));
    }
  }

  Principal NewUser() { return InsertTestUser(io_, pool_, "lc"); }

  ListingId NewListing(const Principal& seller, std::int64_t quantity, std::int64_t price = 1500) {
    domain::ListingDraft draft{.title = "Lifecycle item",
                               .price_cents = price,
                               .currency = "USD",
                               .quantity = quantity,
                               .category = "other",
                               .condition = "new"};
    return RunTask(io_, listings_.Insert(seller.user.id, draft)).id;
  }

  Order Place(const Principal& buyer, const std::vector<std::pair<ListingId, int>>& lines) {
    for (const auto& [listing, quantity] : lines) {
      Must(RunTask(io_, cart_.SetItem(buyer, listing, quantity)), "add to cart");
    }
    std::string key = "lifecycle-" + RandomSuffix();
    return Must(RunTask(io_, checkout_.PlaceOrder(buyer, key, "body", Address())), "checkout")
        .order;
  }

  PaymentSession Start(const Principal& buyer, OrderId id) {
    auto session = Must(RunTask(io_, payments_.StartPayment(buyer, id)), "start payment");
    Remember(session.intent.id);
    return session;
  }

  void Remember(const std::string& intent_id) {
    if (std::find(intents_.begin(), intents_.end(), intent_id) == intents_.end())
      intents_.push_back(intent_id);
  }

  // The buyer's browser paying at the gateway: the intent moves, its own event goes nowhere.
  Result<services::PaymentIntent> Confirm(const PaymentSession& session,
                                          std::string_view card = kGoodCard) {
    clients::CardDetails details{.client_secret = session.intent.client_secret,
                                 .card_number = std::string(card),
                                 .exp_month = 12,
                                 .exp_year = GoodYear(),
                                 .cvc = "123"};
    return RunTask(io_, gateway_.Confirm(session.intent.id, details));
  }

  IntentEvent Succeeded(const Order& order, const PaymentSession& session) {
    return IntentEvent{.intent_id = session.intent.id,
                       .amount = order.total_cents,
                       .currency = "usd",
                       .order = order.id.value};
  }

  Result<void> Webhook(const std::string& body) {
    std::string signature = Sign(body);
    return RunTask(io_, payments_.HandleWebhook(signature, body));
  }

  // Placed, paid at the gateway, and its succeeded event received.
  Order PlacePaid(const Principal& buyer, const std::vector<std::pair<ListingId, int>>& lines) {
    Order order = Place(buyer, lines);
    PaymentSession session = Start(buyer, order.id);
    Must(Confirm(session), "confirm");
    auto handled = Webhook(EventBody(NewEventId(), Succeeded(order, session)));
    if (!handled.ok()) throw std::runtime_error("webhook: " + handled.error().message);
    return Get(buyer, order.id);
  }

  Order Get(const Principal& viewer, OrderId id) {
    return Must(RunTask(io_, orders_service_.Get(viewer, id)), "get order");
  }

  Order Stored(OrderId id) {
    auto order = RunTask(io_, orders_.Find(id));
    if (!order) throw std::runtime_error("no order " + std::to_string(id.value));
    return *order;
  }

  domain::Listing Listing(ListingId id) {
    auto listing = RunTask(io_, listings_.Find(id));
    if (!listing) throw std::runtime_error("no listing " + std::to_string(id.value));
    return *listing;
  }

  std::optional<int> Counter(ListingId id) { return RunTask(io_, gate_.Peek(id)); }

  // Named after its text: a statement name stands for one SQL text on a connection.
  template <class... Values>
  pg::QueryResult Query(std::string_view sql, const Values&... values) {
    const std::string name = "test.lifecycle." + std::to_string(std::hash<std::string_view>{}(sql));
    return RunTask(io_, pool_.Execute(pg::Statement{name, sql}, pg::Params(values...)));
  }

  template <class... Values>
  std::int64_t Count(std::string_view sql, const Values&... values) {
    return Query(sql, values...).Int(0, "n");
  }

  void ExpireNow(OrderId id) {
    Query("UPDATE orders SET expires_at = now() - interval '1 minute' WHERE id = $1", id.value);
  }

  // Expired long ago: first in line for any sweep, whatever other expired orders the shared
  // database holds (a sweep takes the oldest first, a batch at a time).
  void ExpireLongAgo(OrderId id) {
    Query("UPDATE orders SET expires_at = timestamptz '2000-01-01 00:00:00+00' WHERE id = $1",
          id.value);
  }

  std::string IntentStatus(const std::string& intent_id) {
    return Query("SELECT status FROM local_payment_intents WHERE id = $1", intent_id)
        .String(0, "status");
  }

  std::int64_t IntentRefunded(const std::string& intent_id) {
    return Query("SELECT amount_refunded_cents AS n FROM local_payment_intents WHERE id = $1",
                 intent_id)
        .Int(0, "n");
  }

  std::int64_t PaymentEventRows(const std::string& event_id) {
    return Count("SELECT count(*) AS n FROM payment_events WHERE event_id = $1", event_id);
  }

  std::string PaymentEventOutcome(const std::string& event_id) {
    auto rows = Query("SELECT outcome FROM payment_events WHERE event_id = $1", event_id);
    return rows.empty() ? std::string("<none>") : rows.String(0, "outcome");
  }

  std::int64_t EventsOfType(OrderId id, std::string_view type) {
    return Count("SELECT count(*) AS n FROM order_events WHERE order_id = $1 AND type = $2",
                 id.value, type);
  }

  boost::asio::io_context io_;
  SystemClock clock_;
  pg::Pool pool_;
  redis::Client redis_;
  redis::RedisStockGate gate_;
  pg::PgJobQueue jobs_queue_;
  clients::LocalGateway gateway_;
  pg::PgListingsRepository listings_;
  pg::PgCartsRepository carts_;
  pg::PgOrdersRepository orders_;
  services::CartService cart_;
  services::CheckoutService checkout_;
  services::PaymentsService payments_;
  services::OrdersService orders_service_;
  std::vector<std::string> intents_;
};

// ---- Payment ----

TEST_F(OrderLifecycleTest, APaymentTakesTheStockAndKeepsTheRedisCounter) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 5);
  Order order = Place(buyer, {{listing, 2}});
  EXPECT_EQ(order.Status(), OrderStatus::kPendingPayment);
  EXPECT_EQ(order.items.at(0).status, ItemStatus::kPendingPayment);
  ASSERT_EQ(Counter(listing), std::optional<int>(3)) << "the checkout took 2 from the counter";

  PaymentSession first = Start(buyer, order.id);
  PaymentSession again = Start(buyer, order.id);
  EXPECT_EQ(first.provider, "local");
  EXPECT_EQ(first.intent.id, again.intent.id) << "one intent per order";
  EXPECT_EQ(first.intent.client_secret, again.intent.client_secret);
  EXPECT_EQ(first.intent.amount_cents, 3000);
  EXPECT_EQ(first.intent.currency, "USD");
  EXPECT_EQ(
      Count("SELECT count(*) AS n FROM local_payment_intents WHERE order_id = $1", order.id.value),
      1);
  auto stranger = NewUser();
  auto refused = RunTask(io_, payments_.StartPayment(stranger, order.id));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(Confirm(first).ok());
  const std::string event_id = NewEventId();
  auto handled = Webhook(EventBody(event_id, Succeeded(order, first)));
  ASSERT_TRUE(handled.ok()) << handled.error().message;

  Order paid = Get(buyer, order.id);
  EXPECT_EQ(paid.Status(), OrderStatus::kPaid);
  EXPECT_TRUE(paid.paid_at.has_value());
  EXPECT_EQ(paid.payment_intent_id, std::optional<std::string>(first.intent.id));
  ASSERT_EQ(paid.items.size(), 1u);
  EXPECT_EQ(paid.items[0].status, ItemStatus::kAwaitingShipment);
  EXPECT_EQ(Types(paid), (std::vector<std::string>{"order.placed", "order.paid"}));
  EXPECT_EQ(paid.events.at(1).actor, domain::Actor::kProvider);
  EXPECT_TRUE(paid.refunds.empty());
  EXPECT_EQ(PaymentEventOutcome(event_id), "paid");

  auto stored = Listing(listing);
  EXPECT_EQ(stored.quantity, 3) << "paid stock leaves listings.quantity";
  EXPECT_EQ(stored.reserved, 0) << "a paid order reserves nothing";
  EXPECT_EQ(Counter(listing), std::optional<int>(3)) << "the counter already counted the sale";
  EXPECT_EQ(Counter(listing), std::optional<int>(stored.available()));

  auto after = RunTask(io_, payments_.StartPayment(buyer, order.id));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kConflict);
}

TEST_F(OrderLifecycleTest, StartingPaymentConcurrentlyAttachesOneIntent) {
  auto seller = NewUser();
  auto buyer = NewUser();
  Order order = Place(buyer, {{NewListing(seller, 5), 1}});
  std::vector<std::optional<Result<PaymentSession>>> out(4);
  std::vector<Task<void>> tasks;
  for (auto& slot : out) tasks.push_back(StartInto(payments_, buyer, order.id, slot));
  RunConcurrently(io_, std::move(tasks));
  std::set<std::string> ids;
  for (auto& session : out) {
    ASSERT_TRUE(session.has_value());
    ASSERT_TRUE(session->ok()) << session->error().message;
    ids.insert((*session)->intent.id);
    Remember((*session)->intent.id);
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(Stored(order.id).payment_intent_id, std::optional<std::string>(*ids.begin()));
}

TEST_F(OrderLifecycleTest, TheSameEventFiveTimesAtOnceIsAppliedOnce) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 10);
  Order order = Place(buyer, {{listing, 3}});
  PaymentSession session = Start(buyer, order.id);
  ASSERT_TRUE(Confirm(session).ok());
  const std::string event_id = NewEventId();
  const std::string body = EventBody(event_id, Succeeded(order, session));
  const std::string signature = Sign(body);

  std::vector<std::optional<Result<void>>> out(5);
  std::vector<Task<void>> tasks;
  for (auto& slot : out) tasks.push_back(WebhookInto(payments_, signature, body, slot));
  RunConcurrently(io_, std::move(tasks));
  for (auto& result : out) {
    ASSERT_TRUE(result.has_value());
    EXPECT_TRUE(result->ok()) << "every delivery is acknowledged";
  }

  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kPaid);
  EXPECT_EQ(Listing(listing).quantity, 7) << "the stock is taken once";
  EXPECT_EQ(Counter(listing), std::optional<int>(7));
  EXPECT_EQ(PaymentEventRows(event_id), 1);
  EXPECT_EQ(EventsOfType(order.id, "order.paid"), 1);

  // Another event for the same payment (a provider may send one again under a new id) changes
  // nothing either.
  const std::string other_id = NewEventId();
  ASSERT_TRUE(Webhook(EventBody(other_id, Succeeded(order, session))).ok());
  EXPECT_EQ(PaymentEventOutcome(other_id), "already_paid");
  EXPECT_EQ(Listing(listing).quantity, 7);
  EXPECT_EQ(EventsOfType(order.id, "order.paid"), 1);
}

TEST_F(OrderLifecycleTest, AFailedPaymentLeavesTheOrderPendingAndPayableAgain) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 4);
  Order order = Place(buyer, {{listing, 1}});
  PaymentSession session = Start(buyer, order.id);
  auto declined = Confirm(session, kDeclinedCard);
  ASSERT_FALSE(declined.ok());
  EXPECT_EQ(declined.error().code, ErrorCode::kPaymentDeclined);

  IntentEvent failed = Succeeded(order, session);
  failed.type = "payment_intent.payment_failed";
  failed.failure_code = "card_declined";
  const std::string event_id = NewEventId();
  auto handled = Webhook(EventBody(event_id, failed));
  ASSERT_TRUE(handled.ok()) << handled.error().message;

  Order pending = Get(buyer, order.id);
  EXPECT_EQ(pending.Status(), OrderStatus::kPendingPayment);
  EXPECT_EQ(pending.items.at(0).status, ItemStatus::kPendingPayment);
  EXPECT_EQ(Types(pending), (std::vector<std::string>{"order.placed", "payment.failed"}));
  EXPECT_EQ(PaymentEventOutcome(event_id), "failed");
  EXPECT_EQ(Listing(listing).quantity, 4);
  EXPECT_EQ(Listing(listing).reserved, 1) << "the reservation holds";
  EXPECT_EQ(Counter(listing), std::optional<int>(3));

  ASSERT_TRUE(Confirm(session).ok()) << "another card pays the same intent";
  ASSERT_TRUE(Webhook(EventBody(NewEventId(), Succeeded(order, session))).ok());
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kPaid);
  EXPECT_EQ(Listing(listing).quantity, 3);
}

// Canceled at the provider (from its dashboard, say) while the order still waits: the intent can
// never be paid, so the next payment attempt gets a new one, and the new one pays the order.
TEST_F(OrderLifecycleTest, AnIntentCanceledAtTheProviderIsReplacedByANewOne) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 4);
  Order order = Place(buyer, {{listing, 1}});
  PaymentSession first = Start(buyer, order.id);
  ASSERT_TRUE(RunTask(io_, gateway_.CancelIntent(first.intent.id)).ok());
  ASSERT_EQ(IntentStatus(first.intent.id), "canceled");

  PaymentSession second = Start(buyer, order.id);
  EXPECT_NE(second.intent.id, first.intent.id);
  EXPECT_EQ(second.intent.status, "requires_payment_method");
  EXPECT_EQ(second.intent.amount_cents, order.total_cents);
  EXPECT_EQ(Stored(order.id).payment_intent_id, std::optional(second.intent.id));
  EXPECT_EQ(EventsOfType(order.id, "payment.canceled"), 1);
  // Asked again, the same new intent.
  PaymentSession again = Start(buyer, order.id);
  EXPECT_EQ(again.intent.id, second.intent.id);

  // The canceled one takes no money; the new one pays the order.
  EXPECT_FALSE(Confirm(first).ok());
  ASSERT_TRUE(Confirm(second).ok());
  ASSERT_TRUE(Webhook(EventBody(NewEventId(), Succeeded(order, second))).ok());
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kPaid);
  EXPECT_EQ(Listing(listing).quantity, 3);
  EXPECT_EQ(EventsOfType(order.id, "payment.canceled"), 1);
}

// The same, when the order's intent was lost between detaching the canceled one and attaching
// the next (a crash): the provider answers the first key with the canceled intent again, and the
// order still ends with one new intent.
TEST_F(OrderLifecycleTest, ACanceledIntentComingBackFromItsKeyIsReplacedToo) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 4);
  Order order = Place(buyer, {{listing, 1}});
  PaymentSession first = Start(buyer, order.id);
  ASSERT_TRUE(RunTask(io_, gateway_.CancelIntent(first.intent.id)).ok());
  Query("UPDATE orders SET payment_intent_id = NULL WHERE id = $1", order.id.value);

  PaymentSession second = Start(buyer, order.id);
  EXPECT_NE(second.intent.id, first.intent.id);
  EXPECT_EQ(second.intent.status, "requires_payment_method");
  EXPECT_EQ(Stored(order.id).payment_intent_id, std::optional(second.intent.id));
}

TEST_F(OrderLifecycleTest, APaymentAfterExpiryIsRefundedAndTheReservationReleased) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 6);
  Order order = Place(buyer, {{listing, 2}});
  PaymentSession session = Start(buyer, order.id);
  ASSERT_TRUE(Confirm(session).ok()) << "paid at the last second";
  ExpireNow(order.id);
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kExpired) << "expired before the sweep";
  ASSERT_EQ(Counter(listing), std::optional<int>(4));
  auto late = RunTask(io_, payments_.StartPayment(buyer, order.id));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);

  const std::string event_id = NewEventId();
  auto handled = Webhook(EventBody(event_id, Succeeded(order, session)));
  ASSERT_TRUE(handled.ok()) << handled.error().message;

  Order expired = Get(buyer, order.id);
  EXPECT_EQ(expired.stored_status, OrderStatus::kExpired);
  EXPECT_EQ(expired.items.at(0).status, ItemStatus::kCancelled);
  ASSERT_EQ(expired.refunds.size(), 1u);
  EXPECT_EQ(expired.refunds[0].status, "succeeded") << "the gateway refunded it";
  EXPECT_EQ(expired.refunds[0].reason, "paid_after_expiry");
  EXPECT_EQ(expired.refunds[0].amount_cents, 3000);
  EXPECT_EQ(Types(expired), (std::vector<std::string>{"order.placed", "order.expired",
                                                      "refund.requested", "refund.succeeded"}));
  EXPECT_EQ(PaymentEventOutcome(event_id), "refunded");
  EXPECT_EQ(IntentRefunded(session.intent.id), 3000);

  auto stored = Listing(listing);
  EXPECT_EQ(stored.quantity, 6) << "no stock was taken";
  EXPECT_EQ(stored.available(), 6);
  EXPECT_EQ(Counter(listing), std::optional<int>(6)) << "the reservation went back to the counter";

  // The sweep finds nothing left to do for it.
  RunTask(io_, orders_service_.ExpireDue());
  EXPECT_EQ(Counter(listing), std::optional<int>(6));
  EXPECT_EQ(EventsOfType(order.id, "order.expired"), 1);
}

// Cannot happen while reservations hold; if stock ever goes missing under a pending order (a
// hand edit, a bug), the payment takes nothing from any line and the buyer is refunded.
TEST_F(OrderLifecycleTest, APaymentWhoseStockIsGoneTakesNothingAndIsRefunded) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto first = NewListing(seller, 5);
  auto second = NewListing(seller, 5);  // higher id: taken after `first`
  Order order = Place(buyer, {{first, 1}, {second, 2}});
  PaymentSession session = Start(buyer, order.id);
  ASSERT_TRUE(Confirm(session).ok());
  Query("UPDATE listings SET quantity = 1 WHERE id = $1", second.value);

  const std::string event_id = NewEventId();
  auto handled = Webhook(EventBody(event_id, Succeeded(order, session)));
  ASSERT_TRUE(handled.ok()) << handled.error().message;

  EXPECT_EQ(PaymentEventOutcome(event_id), "refunded");
  Order cancelled = Get(buyer, order.id);
  EXPECT_EQ(cancelled.stored_status, OrderStatus::kCancelled);
  ASSERT_EQ(cancelled.refunds.size(), 1u);
  EXPECT_EQ(cancelled.refunds[0].reason, "stock_unavailable");
  EXPECT_EQ(Listing(first).quantity, 5) << "the first line's stock was given back";
  EXPECT_EQ(Listing(second).quantity, 1);
}

TEST_F(OrderLifecycleTest, APaymentForAnOrderTheSweepExpiredIsRefundedWithoutReleasingTwice) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 6);
  Order order = Place(buyer, {{listing, 2}});
  PaymentSession session = Start(buyer, order.id);
  ASSERT_TRUE(Confirm(session).ok());
  ExpireLongAgo(order.id);
  RunTask(io_, orders_service_.ExpireDue());
  ASSERT_EQ(Stored(order.id).stored_status, OrderStatus::kExpired);
  ASSERT_EQ(Counter(listing), std::optional<int>(6));

  ASSERT_TRUE(Webhook(EventBody(NewEventId(), Succeeded(order, session))).ok());
  Order expired = Get(buyer, order.id);
  ASSERT_EQ(expired.refunds.size(), 1u);
  EXPECT_EQ(expired.refunds[0].status, "succeeded");
  EXPECT_EQ(IntentRefunded(session.intent.id), 3000);
  EXPECT_EQ(Listing(listing).quantity, 6);
  EXPECT_EQ(Counter(listing), std::optional<int>(6));
}

TEST_F(OrderLifecycleTest, MismatchedEventsAreAcknowledgedAndChangeNothing) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 5);
  Order order = Place(buyer, {{listing, 1}});
  PaymentSession session = Start(buyer, order.id);
  ASSERT_TRUE(Confirm(session).ok());

  IntentEvent amount = Succeeded(order, session);
  amount.amount -= 1;
  IntentEvent currency = Succeeded(order, session);
  currency.currency = "eur";
  IntentEvent intent = Succeeded(order, session);
  intent.intent_id = "pi_local_someoneelse";
  IntentEvent unknown = Succeeded(order, session);
  unknown.order = std::int64_t{1} << 60;
  IntentEvent no_order = Succeeded(order, session);
  no_order.order.reset();
  const std::vector<std::pair<IntentEvent, std::string>> cases = {{amount, "amount_mismatch"},
                                                                  {currency, "amount_mismatch"},
                                                                  {intent, "intent_mismatch"},
                                                                  {unknown, "unknown_order"},
                                                                  {no_order, "unknown_order"}};
  for (const auto& [spec, outcome] : cases) {
    const std::string event_id = NewEventId();
    auto handled = Webhook(EventBody(event_id, spec));
    EXPECT_TRUE(handled.ok()) << outcome;
    EXPECT_EQ(PaymentEventOutcome(event_id), outcome);
  }
  Order pending = Get(buyer, order.id);
  EXPECT_EQ(pending.Status(), OrderStatus::kPendingPayment);
  EXPECT_EQ(Types(pending), std::vector<std::string>{"order.placed"});
  EXPECT_TRUE(pending.refunds.empty());
  EXPECT_EQ(Listing(listing).quantity, 5);
  EXPECT_EQ(Counter(listing), std::optional<int>(4));

  ASSERT_TRUE(Webhook(EventBody(NewEventId(), Succeeded(order, session))).ok());
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kPaid) << "the right event still pays";
}

TEST_F(OrderLifecycleTest, ABadSignatureIsRefusedAndChangesNothing) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 5);
  Order order = Place(buyer, {{listing, 1}});
  PaymentSession session = Start(buyer, order.id);
  ASSERT_TRUE(Confirm(session).ok());
  const std::string event_id = NewEventId();
  const std::string body = EventBody(event_id, Succeeded(order, session));
  std::string tampered = body;
  tampered.replace(tampered.find("\"amount\":1500"), 13, "\"amount\":1501");

  const std::vector<std::pair<std::string, std::string>> deliveries = {
      {Sign(body, "whsec_wrong_secret"), body},
      {Sign(body, kSecret, UnixNow() - 600), body},
      {Sign(body), tampered},
      {"", body},
      {"t=" + std::to_string(UnixNow()) + ",v1=00", body}};
  for (const auto& [signature, sent] : deliveries) {
    auto handled = RunTask(io_, payments_.HandleWebhook(signature, sent));
    ASSERT_FALSE(handled.ok()) << signature;
    EXPECT_EQ(handled.error().code, ErrorCode::kInvalidSignature) << signature;
  }
  EXPECT_EQ(PaymentEventRows(event_id), 0);
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kPendingPayment);
  EXPECT_EQ(Listing(listing).quantity, 5);
  EXPECT_EQ(Counter(listing), std::optional<int>(4));

  // A signed body that is not an event: refused as such, not as a signature problem.
  const std::string junk = "[1,2,3]";
  auto unreadable = RunTask(io_, payments_.HandleWebhook(Sign(junk), junk));
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.error().code, ErrorCode::kBadRequest);

  ASSERT_TRUE(Webhook(body).ok()) << "the genuine delivery of the same event still counts";
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kPaid);
}

// ---- Expiry ----

TEST_F(OrderLifecycleTest, TwoSweepsAtOnceExpireEachOrderOnce) {
  constexpr int kOrders = 30;
  auto seller = NewUser();
  auto listing = NewListing(seller, kOrders);
  std::vector<std::int64_t> ids;
  std::vector<std::string> intents;
  for (int i = 0; i < kOrders; ++i) {
    auto buyer = NewUser();
    Order order = Place(buyer, {{listing, 1}});
    ids.push_back(order.id.value);
    intents.push_back(Start(buyer, order.id).intent.id);
  }
  ASSERT_EQ(Counter(listing), std::optional<int>(0));
  ASSERT_EQ(Listing(listing).available(), 0);
  // Long past, so that these come first to any sweep.
  Query(
      "UPDATE orders SET expires_at = timestamptz '2000-01-01 00:00:00+00' WHERE id = "
      "ANY($1::bigint[])",
      BigintArray(ids));

  std::optional<int> first;
  std::optional<int> second;
  std::vector<Task<void>> tasks;
  tasks.push_back(ExpireInto(orders_service_, 100, first));
  tasks.push_back(ExpireInto(orders_service_, 100, second));
  RunConcurrently(io_, std::move(tasks));
  ASSERT_TRUE(first && second);
  EXPECT_GE(*first + *second, kOrders);

  const std::string array = BigintArray(ids);
  EXPECT_EQ(Count("SELECT count(*) AS n FROM orders WHERE id = ANY($1::bigint[]) AND status = "
                  "'expired'",
                  array),
            kOrders);
  EXPECT_EQ(Count("SELECT count(*) AS n FROM order_items WHERE order_id = ANY($1::bigint[]) AND "
                  "status = 'cancelled'",
                  array),
            kOrders);
  EXPECT_EQ(Count("SELECT count(*) AS n FROM order_events WHERE order_id = ANY($1::bigint[]) AND "
                  "type = 'order.expired'",
                  array),
            kOrders)
      << "one event per order";
  EXPECT_EQ(Count("SELECT count(DISTINCT order_id) AS n FROM order_events WHERE order_id = "
                  "ANY($1::bigint[]) AND type = 'order.expired'",
                  array),
            kOrders);
  EXPECT_EQ(Counter(listing), std::optional<int>(kOrders)) << "each reservation released once";
  EXPECT_EQ(Listing(listing).available(), kOrders);
  EXPECT_EQ(Listing(listing).quantity, kOrders);
  EXPECT_EQ(Count("SELECT count(*) AS n FROM local_payment_intents WHERE id = ANY($1::text[]) "
                  "AND status = 'canceled'",
                  TextArray(intents)),
            kOrders);

  RunTask(io_, orders_service_.ExpireDue());
  EXPECT_EQ(Counter(listing), std::optional<int>(kOrders)) << "a later sweep releases nothing";
}

// ---- Cancel ----

TEST_F(OrderLifecycleTest, CancellingAPendingOrderReleasesItsReservation) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 5);
  Order order = Place(buyer, {{listing, 2}});
  PaymentSession session = Start(buyer, order.id);
  ASSERT_EQ(Counter(listing), std::optional<int>(3));

  auto stranger = NewUser();
  auto refused = RunTask(io_, orders_service_.Cancel(stranger, order.id));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
  refused = RunTask(io_, orders_service_.Cancel(seller, order.id));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);

  auto cancelled = RunTask(io_, orders_service_.Cancel(buyer, order.id));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled->Status(), OrderStatus::kCancelled);
  EXPECT_EQ(cancelled->items.at(0).status, ItemStatus::kCancelled);
  EXPECT_TRUE(cancelled->refunds.empty()) << "nothing was paid";
  EXPECT_EQ(Types(*cancelled), (std::vector<std::string>{"order.placed", "order.cancelled"}));
  EXPECT_EQ(cancelled->events.at(1).actor, domain::Actor::kBuyer);
  EXPECT_EQ(Counter(listing), std::optional<int>(5));
  EXPECT_EQ(Listing(listing).available(), 5);
  EXPECT_EQ(Listing(listing).quantity, 5);
  EXPECT_EQ(IntentStatus(session.intent.id), "canceled");

  auto twice = RunTask(io_, orders_service_.Cancel(buyer, order.id));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Counter(listing), std::optional<int>(5));
}

TEST_F(OrderLifecycleTest, AnExpiredOrderCannotBeCancelled) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 5);
  Order order = Place(buyer, {{listing, 2}});
  ExpireNow(order.id);
  auto refused = RunTask(io_, orders_service_.Cancel(buyer, order.id));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Stored(order.id).stored_status, OrderStatus::kPendingPayment);
  EXPECT_EQ(Counter(listing), std::optional<int>(3)) << "the sweep releases it, once";
}

TEST_F(OrderLifecycleTest, CancellingAPaidOrderReturnsTheStockAndRefunds) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 5);
  Order paid = PlacePaid(buyer, {{listing, 2}});
  ASSERT_EQ(paid.Status(), OrderStatus::kPaid);
  ASSERT_EQ(Listing(listing).quantity, 3);
  ASSERT_EQ(Counter(listing), std::optional<int>(3));

  auto cancelled = RunTask(io_, orders_service_.Cancel(buyer, paid.id));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled->Status(), OrderStatus::kCancelled);
  EXPECT_EQ(cancelled->items.at(0).status, ItemStatus::kCancelled);
  ASSERT_EQ(cancelled->refunds.size(), 1u);
  EXPECT_EQ(cancelled->refunds[0].status, "succeeded");
  EXPECT_EQ(cancelled->refunds[0].reason, "cancelled_by_buyer");
  EXPECT_EQ(cancelled->refunds[0].amount_cents, 3000);
  EXPECT_EQ(Types(*cancelled),
            (std::vector<std::string>{"order.placed", "order.paid", "order.cancelled",
                                      "refund.requested", "refund.succeeded"}));
  EXPECT_EQ(IntentRefunded(*paid.payment_intent_id), 3000);

  auto stored = Listing(listing);
  EXPECT_EQ(stored.quantity, 5) << "the stock is back on hand";
  EXPECT_EQ(stored.available(), 5);
  EXPECT_EQ(Counter(listing), std::optional<int>(5));
}

TEST_F(OrderLifecycleTest, ACancelAndAPaymentAtOnceAlwaysLeaveTheMoneyRight) {
  constexpr int kOrders = 10;
  auto seller = NewUser();
  auto listing = NewListing(seller, kOrders);
  std::vector<Principal> buyers;
  std::vector<Order> orders;
  std::vector<std::string> bodies;
  for (int i = 0; i < kOrders; ++i) {
    buyers.push_back(NewUser());
    orders.push_back(Place(buyers.back(), {{listing, 1}}));
    PaymentSession session = Start(buyers.back(), orders.back().id);
    ASSERT_TRUE(Confirm(session).ok());
    bodies.push_back(EventBody(NewEventId(), Succeeded(orders.back(), session)));
  }

  std::vector<std::optional<Result<Order>>> cancels(kOrders);
  std::vector<std::optional<Result<void>>> hooks(kOrders);
  std::vector<Task<void>> tasks;
  for (int i = 0; i < kOrders; ++i) {
    // Half the pairs start with the webhook, half with the cancel.
    if (i % 2 == 0) tasks.push_back(WebhookInto(payments_, Sign(bodies[i]), bodies[i], hooks[i]));
    tasks.push_back(CancelInto(orders_service_, buyers[i], orders[i].id, cancels[i]));
    if (i % 2 != 0) tasks.push_back(WebhookInto(payments_, Sign(bodies[i]), bodies[i], hooks[i]));
  }
  RunConcurrently(io_, std::move(tasks));

  for (int i = 0; i < kOrders; ++i) {
    SCOPED_TRACE("order " + std::to_string(orders[i].id.value));
    ASSERT_TRUE(hooks[i] && cancels[i]);
    EXPECT_TRUE(hooks[i]->ok());
    // Either way round the buyer may cancel: a pending order, or a paid one nothing shipped of.
    EXPECT_TRUE(cancels[i]->ok()) << cancels[i]->error().message;
    Order order = Stored(orders[i].id);
    const std::string intent = *order.payment_intent_id;
    if (order.Status() == OrderStatus::kCancelled) {
      ASSERT_EQ(order.refunds.size(), 1u) << "cancelled after the money came: refunded";
      EXPECT_EQ(order.refunds[0].status, "succeeded");
      EXPECT_EQ(IntentRefunded(intent), order.total_cents);
    } else {
      EXPECT_EQ(order.Status(), OrderStatus::kPaid);
      EXPECT_TRUE(order.refunds.empty());
      EXPECT_EQ(IntentRefunded(intent), 0);
    }
    EXPECT_LE(EventsOfType(order.id, "order.cancelled"), 1);
  }
  // Every order ended cancelled or paid; the stock agrees with what is still paid for.
  const std::string array = BigintArray([&orders] {
    std::vector<std::int64_t> ids;
    for (const auto& order : orders) ids.push_back(order.id.value);
    return ids;
  }());
  const std::int64_t still_paid = Count(
      "SELECT count(*) AS n FROM orders WHERE id = ANY($1::bigint[]) AND status = 'paid'", array);
  EXPECT_EQ(Listing(listing).quantity, kOrders - still_paid);
  EXPECT_EQ(Listing(listing).available(), kOrders - still_paid);
  EXPECT_EQ(Counter(listing), std::optional<int>(kOrders - still_paid));
}

TEST_F(OrderLifecycleTest, ACancelledOrderNeverKeepsAPayableIntent) {
  constexpr int kOrders = 10;
  auto seller = NewUser();
  auto listing = NewListing(seller, kOrders);
  std::vector<Principal> buyers;
  std::vector<Order> orders;
  for (int i = 0; i < kOrders; ++i) {
    buyers.push_back(NewUser());
    orders.push_back(Place(buyers.back(), {{listing, 1}}));
  }
  std::vector<std::optional<Result<PaymentSession>>> starts(kOrders);
  std::vector<std::optional<Result<Order>>> cancels(kOrders);
  std::vector<Task<void>> tasks;
  for (int i = 0; i < kOrders; ++i) {
    tasks.push_back(StartInto(payments_, buyers[i], orders[i].id, starts[i]));
    tasks.push_back(CancelInto(orders_service_, buyers[i], orders[i].id, cancels[i]));
  }
  RunConcurrently(io_, std::move(tasks));

  for (int i = 0; i < kOrders; ++i) {
    SCOPED_TRACE("order " + std::to_string(orders[i].id.value));
    ASSERT_TRUE(starts[i] && cancels[i]);
    ASSERT_TRUE(cancels[i]->ok()) << cancels[i]->error().message;
    Order order = Stored(orders[i].id);
    EXPECT_EQ(order.Status(), OrderStatus::kCancelled);
    if (starts[i]->ok()) Remember((*starts[i])->intent.id);
    if (!order.payment_intent_id) continue;
    Remember(*order.payment_intent_id);
    // The buyer could otherwise be charged for a cancelled order (and refunded only if the
    // webhook arrives).
    EXPECT_EQ(IntentStatus(*order.payment_intent_id), "canceled")
        << "the intent of a cancelled order is still payable (StartPayment answered "
        << (starts[i]->ok() ? "with that intent" : starts[i]->error().message) << ")";
  }
  EXPECT_EQ(Counter(listing), std::optional<int>(kOrders));
}

// ---- Fulfilment ----

TEST_F(OrderLifecycleTest, ShippingAndDeliveringEveryLineCompletesTheOrder) {
  auto alice = NewUser();  // sells a
  auto bob = NewUser();    // sells b
  auto buyer = NewUser();
  auto stranger = NewUser();
  auto a = NewListing(alice, 3, 1000);
  auto b = NewListing(bob, 3, 2000);
  Order order = Place(buyer, {{a, 1}, {b, 2}});
  ASSERT_EQ(order.items.size(), 2u);
  const std::int64_t item_a =
      order.items[0].listing_id == a ? order.items[0].id : order.items[1].id;
  const std::int64_t item_b =
      order.items[0].listing_id == b ? order.items[0].id : order.items[1].id;
  std::vector<std::int64_t> only_a = {item_a};
  std::vector<std::int64_t> only_b = {item_b};

  auto unpaid = RunTask(io_, orders_service_.Ship(alice, order.id, only_a, "UPS", "1Z999"));
  ASSERT_FALSE(unpaid.ok());
  EXPECT_EQ(unpaid.error().code, ErrorCode::kConflict) << "not paid yet";

  PaymentSession session = Start(buyer, order.id);
  ASSERT_TRUE(Confirm(session).ok());
  ASSERT_TRUE(Webhook(EventBody(NewEventId(), Succeeded(order, session))).ok());

  auto wrong = RunTask(io_, orders_service_.Ship(bob, order.id, only_a, "UPS", "1Z999"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kForbidden);
  wrong = RunTask(io_, orders_service_.Ship(buyer, order.id, only_a, "UPS", "1Z999"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kForbidden);
  wrong = RunTask(io_, orders_service_.Ship(stranger, order.id, only_a, "UPS", "1Z999"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kNotFound);
  wrong = RunTask(io_, orders_service_.Ship(alice, order.id, only_a, "UPS", "no"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kValidationFailed);

  auto shipped = RunTask(io_, orders_service_.Ship(alice, order.id, only_a, "  UPS ", " 1Z-999 "));
  ASSERT_TRUE(shipped.ok()) << shipped.error().message;
  ASSERT_EQ(shipped->items.size(), 1u) << "the seller's view";
  EXPECT_EQ(shipped->items[0].status, ItemStatus::kShipped);
  EXPECT_EQ(shipped->items[0].carrier, std::optional<std::string>("UPS"));
  EXPECT_EQ(shipped->items[0].tracking_code, std::optional<std::string>("1Z-999"));
  EXPECT_TRUE(shipped->items[0].shipped_at.has_value());
  EXPECT_EQ(shipped->total_cents, 1000);

  auto again = RunTask(io_, orders_service_.Ship(alice, order.id, only_a, "UPS", "1Z999"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  auto cancel = RunTask(io_, orders_service_.Cancel(buyer, order.id));
  ASSERT_FALSE(cancel.ok());
  EXPECT_EQ(cancel.error().code, ErrorCode::kConflict) << "part of it has shipped";

  std::vector<std::int64_t> none;
  auto early = RunTask(io_, orders_service_.Deliver(alice, order.id, none));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, ErrorCode::kConflict) << "the seller waits 14 days";
  auto nobody = RunTask(io_, orders_service_.Deliver(stranger, order.id, none));
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().code, ErrorCode::kNotFound);
  auto unshipped = RunTask(io_, orders_service_.Deliver(buyer, order.id, only_b));
  ASSERT_FALSE(unshipped.ok());
  EXPECT_EQ(unshipped.error().code, ErrorCode::kConflict);

  auto delivered = RunTask(io_, orders_service_.Deliver(buyer, order.id, none));
  ASSERT_TRUE(delivered.ok()) << delivered.error().message;
  EXPECT_EQ(delivered->Status(), OrderStatus::kPaid) << "b has not arrived yet";
  for (const auto& item : delivered->items) {
    EXPECT_EQ(item.status,
              item.id == item_a ? ItemStatus::kDelivered : ItemStatus::kAwaitingShipment);
  }

  ASSERT_TRUE(RunTask(io_, orders_service_.Ship(bob, order.id, only_b, "DHL", "JD0001")).ok());

  // Fifteen days on, the seller may confirm delivery of their own line, not anyone else's.
  ManualClock later;
  later.offset = std::chrono::hours(24 * 15);
  services::OrdersService orders_later(pool_, orders_, gate_, payments_, later,
                                       services::OrdersOptions{});
  auto not_theirs = RunTask(io_, orders_later.Deliver(alice, order.id, only_b));
  ASSERT_FALSE(not_theirs.ok());
  EXPECT_EQ(not_theirs.error().code, ErrorCode::kForbidden);
  auto completed = RunTask(io_, orders_later.Deliver(bob, order.id, none));
  ASSERT_TRUE(completed.ok()) << completed.error().message;
  EXPECT_EQ(completed->Status(), OrderStatus::kCompleted);

  Order final_order = Get(buyer, order.id);
  EXPECT_EQ(final_order.Status(), OrderStatus::kCompleted);
  for (const auto& item : final_order.items) {
    EXPECT_EQ(item.status, ItemStatus::kDelivered);
    EXPECT_TRUE(item.delivered_at.has_value());
  }
  EXPECT_EQ(Types(final_order), (std::vector<std::string>{
                                    "order.placed", "order.paid", "item.shipped", "item.delivered",
                                    "item.shipped", "item.delivered", "order.completed"}));
  EXPECT_EQ(final_order.events.at(3).actor, domain::Actor::kBuyer);
  EXPECT_EQ(final_order.events.at(5).actor, domain::Actor::kSeller);
  EXPECT_EQ(final_order.events.at(6).actor, domain::Actor::kSeller);

  Order alices = Get(alice, order.id);
  ASSERT_EQ(alices.items.size(), 1u);
  EXPECT_EQ(alices.items[0].id, item_a);
  EXPECT_EQ(alices.total_cents, 1000);
  for (const auto& event : alices.events) {
    EXPECT_NE(event.item_id, std::optional<std::int64_t>(item_b)) << event.type;
  }
  EXPECT_EQ(Types(alices), (std::vector<std::string>{"order.placed", "order.paid", "item.shipped",
                                                     "item.delivered", "order.completed"}));

  auto more = RunTask(io_, orders_service_.Deliver(buyer, order.id, none));
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Listing(a).quantity, 2);
  EXPECT_EQ(Listing(b).quantity, 1);
}

// ---- Lists ----

TEST_F(OrderLifecycleTest, ListsPageNewestFirstForBuyersAndSellers) {
  auto seller = NewUser();
  auto other_seller = NewUser();
  auto buyer = NewUser();
  auto other_buyer = NewUser();
  auto listing = NewListing(seller, 20, 1000);
  auto other_listing = NewListing(other_seller, 20, 700);
  Order o1 = Place(buyer, {{listing, 1}});
  Order o2 = Place(buyer, {{listing, 2}});
  Order o3 = Place(buyer, {{listing, 3}});
  Order mixed = Place(other_buyer, {{listing, 1}, {other_listing, 2}});

  auto page = RunTask(io_, orders_service_.List(buyer, services::OrderListQuery{.limit = 2}));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].id, o3.id);
  EXPECT_EQ(page.items[1].id, o2.id);
  ASSERT_EQ(page.next_before, std::optional<std::int64_t>(o2.id.value));
  page = RunTask(io_, orders_service_.List(
                          buyer, services::OrderListQuery{.before = page.next_before, .limit = 2}));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, o1.id);
  EXPECT_EQ(page.next_before, std::nullopt);
  page = RunTask(io_, orders_service_.List(buyer, services::OrderListQuery{.limit = 3}));
  EXPECT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.next_before, std::nullopt) << "an exactly full last page has no next";

  page = RunTask(
      io_, orders_service_.List(seller, services::OrderListQuery{.as_seller = true, .limit = 3}));
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].id, mixed.id);
  EXPECT_EQ(page.items[1].id, o3.id);
  EXPECT_EQ(page.items[2].id, o2.id);
  ASSERT_EQ(page.items[0].items.size(), 1u) << "only the seller's own line";
  EXPECT_EQ(page.items[0].items[0].seller_id, seller.user.id);
  EXPECT_EQ(page.items[0].total_cents, 1000);
  ASSERT_TRUE(page.next_before.has_value());
  page = RunTask(io_, orders_service_.List(
                          seller, services::OrderListQuery{
                                      .as_seller = true, .before = page.next_before, .limit = 3}));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, o1.id);
  EXPECT_EQ(page.next_before, std::nullopt);

  page =
      RunTask(io_, orders_service_.List(other_seller, services::OrderListQuery{.as_seller = true}));
  ASSERT_EQ(page.items.size(), 1u);
  ASSERT_EQ(page.items[0].items.size(), 1u);
  EXPECT_EQ(page.items[0].items[0].seller_id, other_seller.user.id);
  EXPECT_EQ(page.items[0].total_cents, 1400);
  EXPECT_TRUE(
      RunTask(io_, orders_service_.List(other_seller, services::OrderListQuery{})).items.empty())
      << "as a buyer they have no orders";

  // By effective status.
  PaymentSession session = Start(buyer, o2.id);
  ASSERT_TRUE(Confirm(session).ok());
  ASSERT_TRUE(Webhook(EventBody(NewEventId(), Succeeded(o2, session))).ok());
  ExpireNow(o1.id);
  auto by_status = [&](OrderStatus status) {
    std::vector<OrderId> ids;
    auto found =
        RunTask(io_, orders_service_.List(buyer, services::OrderListQuery{.status = status}));
    for (const auto& order : found.items) ids.push_back(order.id);
    return ids;
  };
  EXPECT_EQ(by_status(OrderStatus::kPaid), std::vector<OrderId>{o2.id});
  EXPECT_EQ(by_status(OrderStatus::kPendingPayment), std::vector<OrderId>{o3.id});
  EXPECT_EQ(by_status(OrderStatus::kExpired), std::vector<OrderId>{o1.id})
      << "past its deadline, before any sweep";
  EXPECT_TRUE(by_status(OrderStatus::kCancelled).empty());
}

}  // namespace
}  // namespace market
