// The maintenance jobs against the real PostgreSQL and Redis: expire_orders expires what is due
// once and loses no payment that races it; reconcile_stock repairs drifted counters without ever
// letting a checkout oversell, also after the counters vanished; cleanup deletes only what is old;
// purge_inactive anonymises accounts deleted long ago and keeps their orders.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <random>
#include <stdexcept>

#include "auth/webhook_signature.hpp"
#include "clients/payments/local_gateway.hpp"
#include "db/db_support.hpp"
#include "db/order_support.hpp"
#include "db/users_support.hpp"
#include "jobs/maintenance.hpp"
#include "services/cart/cart_service.hpp"
#include "services/orders/checkout_service.hpp"
#include "services/orders/orders_service.hpp"
#include "services/payments/payments_service.hpp"
#include "storage/pg/carts_repository.hpp"
#include "storage/pg/jobs_repository.hpp"
#include "storage/pg/listings_repository.hpp"
#include "storage/pg/maintenance_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/orders_repository.hpp"
#include "storage/pg/params.hpp"
#include "storage/pg/pool.hpp"
#include "storage/redis/stock_gate.hpp"

namespace market {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using domain::Order;
using domain::OrderId;
using domain::OrderStatus;
using services::PaymentSession;
using services::PlacedOrder;
using services::Principal;
using namespace std::chrono_literals;

constexpr std::string_view kSecret = "whsec_jobs_maintenance_test_secret";

int NextYears(int years) {
  const std::chrono::year_month_day today{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  return static_cast<int>(today.year()) + years;
}

// A payment_intent.succeeded event as the local gateway writes it.
std::string SucceededEvent(const Order& order, const std::string& intent_id) {
  json::object metadata{{"order_id", std::to_string(order.id.value)}};
  json::object intent{{"id", intent_id},
                      {"object", "payment_intent"},
                      {"amount", order.total_cents},
                      {"amount_received", order.total_cents},
                      {"currency", "usd"},
                      {"status", "succeeded"},
                      {"metadata", std::move(metadata)},
                      {"last_payment_error", nullptr}};
  return json::serialize(json::object{{"id", "evt_maint_" + RandomSuffix()},
                                      {"object", "event"},
                                      {"type", "payment_intent.succeeded"},
                                      {"created", UnixNow()},
                                      {"livemode", false},
                                      {"data", json::object{{"object", std::move(intent)}}}});
}

Task<void> Pause(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(duration);
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

// Plain coroutine functions, not lambdas: their arguments live in their own frames.
Task<void> PlaceInto(services::CheckoutService& checkout, Principal buyer, std::string key,
                     std::chrono::milliseconds delay, std::optional<Result<PlacedOrder>>& out,
                     int& finished) {
  co_await Pause(delay);
  domain::ShippingAddress address = Address();
  out.emplace(co_await checkout.PlaceOrder(buyer, std::move(key), "body", std::move(address)));
  ++finished;
}

// Reconciles again and again until `total` checkouts have finished. Before two runs in three it
// makes the counter `key` drift, too high (admits checkouts that PostgreSQL must refuse) or too
// low (refuses checkouts that could succeed), so that there is something to repair mid-race.
Task<void> ReconcileWhile(jobs::Maintenance& maintenance, redis::Client& redis, std::string key,
                          const int& finished, int total, int& runs) {
  while (finished < total) {
    if (runs % 3 != 2) {
      std::vector<std::string> argv = Argv("SET", key, runs % 3 == 0 ? "1000" : "0");
      co_await redis.Command(std::move(argv));
    }
    co_await maintenance.ReconcileStock();
    ++runs;
    co_await Pause(1ms);
  }
}

Task<void> WebhookAfter(services::PaymentsService& payments, std::chrono::milliseconds delay,
                        std::string body, std::optional<Result<void>>& out) {
  co_await Pause(delay);
  std::string signature = auth::SignWebhook(kSecret, UnixNow(), body);
  out.emplace(co_await payments.HandleWebhook(signature, body));
}

Task<void> ExpireFor(jobs::Maintenance& maintenance, std::chrono::milliseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
    co_await maintenance.ExpireOrders();
    co_await Pause(5ms);
  }
}

class JobsMaintenanceTest : public ::testing::Test {
 protected:
  JobsMaintenanceTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 12}),
        redis_(io_.get_executor(), redis::ParseRedisUrl(TestRedisUrl())),
        prefix_(UniqueRedisKey("maintenance", "stock:")),
        gate_(redis_, redis::StockGateOptions{.key_prefix = prefix_}),
        jobs_queue_(pool_),
        gateway_(pool_, jobs_queue_,
                 clients::LocalGatewayOptions{.webhook_url = "http://127.0.0.1:1/",
                                              .webhook_secret = std::string(kSecret)},
                 clock_),
        listings_(pool_),
        carts_(pool_),
        orders_(pool_),
        repository_(pool_),
        cart_(carts_, listings_),
        checkout_(pool_, orders_, gate_, clock_, services::CheckoutOptions{}),
        payments_(pool_, orders_, gate_, gateway_, clock_),
        orders_service_(pool_, orders_, gate_, payments_, clock_, services::OrdersOptions{}),
        maintenance_(orders_service_, payments_, orders_, gate_, repository_, metrics_) {
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
    Query(
        "UPDATE local_webhook_events SET failed_at = now() WHERE intent_id IN (SELECT "
        "payment_intent_id FROM orders WHERE id = ANY($1::bigint[])) AND delivered_at IS NULL "
        "AND failed_at IS NULL",
        BigintArray(orders_placed_));
    Query(
        "DELETE FROM jobs WHERE kind = 'deliver_webhooks' AND payload->>'event_id' IN (SELECT e.id "
        "FROM local_webhook_events e JOIN orders o ON o.payment_intent_id = e.intent_id WHERE "
        "o.id = ANY($1::bigint[]))",
        BigintArray(orders_placed_));
  }

  Principal NewUser() { return InsertTestUser(io_, pool_, "mt"); }

  ListingId NewListing(const Principal& seller, std::int64_t quantity) {
    domain::ListingDraft draft{.title = "Maintenance item",
                               .price_cents = 1500,
                               .currency = "USD",
                               .quantity = quantity,
                               .category = "other",
                               .condition = "new"};
    return RunTask(io_, listings_.Insert(seller.user.id, draft)).id;
  }

  Order Place(const Principal& buyer, ListingId listing, int quantity = 1) {
    Must(RunTask(io_, cart_.SetItem(buyer, listing, quantity)), "add to cart");
    std::string key = "maint-" + RandomSuffix();
    Order order =
        Must(RunTask(io_, checkout_.PlaceOrder(buyer, key, "body", Address())), "checkout").order;
    orders_placed_.push_back(order.id.value);
    return order;
  }

  // Started and paid at the gateway; the webhook is the caller's to send.
  std::string PayAtGateway(const Principal& buyer, const Order& order) {
    PaymentSession session = Must(RunTask(io_, payments_.StartPayment(buyer, order.id)), "start");
    clients::CardDetails card{.client_secret = session.intent.client_secret,
                              .card_number = "4242 4242 4242 4242",
                              .exp_month = 12,
                              .exp_year = NextYears(3),
                              .cvc = "123"};
    Must(RunTask(io_, gateway_.Confirm(session.intent.id, card)), "confirm");
    return session.intent.id;
  }

  // Runs every checkout at once, with reconcile_stock running over and over beside them.
  int RaceWithReconcile(ListingId listing, int buyers, int& runs) {
    std::vector<Principal> principals;
    for (int i = 0; i < buyers; ++i) {
      principals.push_back(NewUser());
      Must(RunTask(io_, cart_.SetItem(principals.back(), listing, 1)), "add to cart");
    }
    std::vector<std::optional<Result<PlacedOrder>>> results(buyers);
    int finished = 0;
    std::vector<Task<void>> tasks;
    tasks.push_back(
        ReconcileWhile(maintenance_, redis_, CounterKey(listing), finished, buyers, runs));
    // Spread over 300 ms, so that reconcile runs many times among them.
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> spread(0, 300);
    for (int i = 0; i < buyers; ++i) {
      tasks.push_back(PlaceInto(checkout_, principals[i], "race-" + RandomSuffix(),
                                std::chrono::milliseconds(spread(random)), results[i], finished));
    }
    RunConcurrently(io_, std::move(tasks), 120s);
    int placed = 0;
    for (auto& result : results) {
      if (!result || !result->ok()) continue;
      ++placed;
      orders_placed_.push_back(result->value().order.id.value);
    }
    return placed;
  }

  std::string CounterKey(ListingId listing) const {
    return prefix_ + std::to_string(listing.value);
  }

  void SetCounter(ListingId listing, int value) {
    RunTask(io_, redis_.Command(Argv("SET", CounterKey(listing), std::to_string(value))));
  }

  std::optional<int> Counter(ListingId listing) { return RunTask(io_, gate_.Peek(listing)); }

  // Runs ReconcileIntents until `done`, with the order placed an hour ago: each run hands out
  // intents not checked in the last 30 minutes, so other tests' orders in the shared database
  // that come first are each checked once and the order's turn comes.
  void ReconcileUntil(OrderId order, const std::function<bool()>& done) {
    Query("UPDATE orders SET created_at = now() - interval '1 hour' WHERE id = $1", order.value);
    for (int run = 0; run < 100 && !done(); ++run)
      RunTask(io_, payments_.ReconcileIntents(std::chrono::minutes(30), 100));
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

  std::int64_t Sold(ListingId listing) {
    return Count(
        "SELECT coalesce(sum(oi.quantity), 0) AS n FROM order_items oi JOIN orders o ON o.id = "
        "oi.order_id WHERE oi.listing_id = $1 AND (o.status = 'paid' OR (o.status = "
        "'pending_payment' AND o.expires_at > now()))",
        listing.value);
  }

  // Named after its text: a statement name stands for one SQL text on a connection.
  template <class... Values>
  pg::QueryResult Query(std::string_view sql, const Values&... values) {
    const std::string name = "test.maint." + std::to_string(std::hash<std::string_view>{}(sql));
    return RunTask(io_, pool_.Execute(pg::Statement{name, sql}, pg::Params(values...)));
  }

  template <class... Values>
  std::int64_t Count(std::string_view sql, const Values&... values) {
    return Query(sql, values...).Int(0, "n");
  }

  template <class... Values>
  std::int64_t Insert(std::string_view sql, const Values&... values) {
    return Query(sql, values...).Int(0, "id");
  }

  bool Exists(std::string_view table_and_key, std::int64_t id) {
    return Count("SELECT count(*) AS n FROM " + std::string(table_and_key) + " = $1", id) == 1;
  }

  void ExpireLongAgo(OrderId id) {
    Query("UPDATE orders SET expires_at = timestamptz '2000-01-01 00:00:00+00' WHERE id = $1",
          id.value);
  }

  std::int64_t EventsOfType(OrderId id, std::string_view type) {
    return Count("SELECT count(*) AS n FROM order_events WHERE order_id = $1 AND type = $2",
                 id.value, type);
  }

  boost::asio::io_context io_;
  SystemClock clock_;
  pg::Pool pool_;
  redis::Client redis_;
  std::string prefix_;
  redis::RedisStockGate gate_;
  pg::PgJobQueue jobs_queue_;
  clients::LocalGateway gateway_;
  pg::PgListingsRepository listings_;
  pg::PgCartsRepository carts_;
  pg::PgOrdersRepository orders_;
  pg::PgMaintenanceRepository repository_;
  services::CartService cart_;
  services::CheckoutService checkout_;
  services::PaymentsService payments_;
  services::OrdersService orders_service_;
  jobs::MaintenanceMetrics metrics_;
  jobs::Maintenance maintenance_;
  std::vector<std::int64_t> orders_placed_;
};

// ---- expire_orders ----

TEST_F(JobsMaintenanceTest, ExpireOrdersExpiresDueOrdersOnceAndASecondRunDoesNothing) {
  RunTask(io_, maintenance_.ExpireOrders());  // whatever earlier suites left due
  auto seller = NewUser();
  auto listing = NewListing(seller, 5);
  auto paying = NewUser();
  Order with_intent = Place(paying, listing);
  PaymentSession session =
      Must(RunTask(io_, payments_.StartPayment(paying, with_intent.id)), "start payment");
  Order without_intent = Place(NewUser(), listing);
  Order not_due = Place(NewUser(), listing);
  ExpireLongAgo(with_intent.id);
  ExpireLongAgo(without_intent.id);
  ASSERT_EQ(Counter(listing), std::optional<int>(2));

  jobs::ExpireReport first = RunTask(io_, maintenance_.ExpireOrders());
  EXPECT_GE(first.expired, 2);
  EXPECT_EQ(Stored(with_intent.id).Status(), OrderStatus::kExpired);
  EXPECT_EQ(Stored(without_intent.id).Status(), OrderStatus::kExpired);
  EXPECT_EQ(Stored(not_due.id).Status(), OrderStatus::kPendingPayment);
  EXPECT_EQ(Query("SELECT status FROM local_payment_intents WHERE id = $1", session.intent.id)
                .String(0, "status"),
            "canceled")
      << "the expired order's intent can no longer be paid";
  EXPECT_EQ(Counter(listing), std::optional<int>(4)) << "both reservations went back";
  EXPECT_EQ(Listing(listing).available(), 4);

  jobs::ExpireReport second = RunTask(io_, maintenance_.ExpireOrders());
  EXPECT_EQ(second.expired, 0);
  EXPECT_EQ(EventsOfType(with_intent.id, "order.expired"), 1);
  EXPECT_EQ(EventsOfType(without_intent.id, "order.expired"), 1);
  EXPECT_EQ(Counter(listing), std::optional<int>(4)) << "nothing released twice";
  EXPECT_GE(metrics_.items("expire_orders", "orders_expired"), 2);
}

TEST_F(JobsMaintenanceTest, ExpireOrdersThroughTheRegistryRunsTheHandler) {
  jobs::HandlerRegistry registry;
  jobs::AddMaintenanceHandlers(registry, maintenance_);
  for (auto kind : jobs::kMaintenanceKinds) ASSERT_NE(registry.Find(kind), nullptr) << kind;
  auto listing = NewListing(NewUser(), 3);
  Order order = Place(NewUser(), listing);
  ExpireLongAgo(order.id);
  services::Job job{.id = 1, .kind = "expire_orders", .payload = "{}"};
  jobs::JobContext context{.job = job};
  RunTask(io_, (*registry.Find("expire_orders"))(context));
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kExpired);
}

TEST_F(JobsMaintenanceTest, ExpiryRacingPaymentsLeavesEveryOrderEitherPaidOrExpiredAndRefunded) {
  constexpr int kOrders = 12;
  auto seller = NewUser();
  auto listing = NewListing(seller, kOrders);
  RunTask(io_, maintenance_.ExpireOrders());  // whatever earlier suites left due
  std::vector<Order> orders;
  std::vector<std::string> intents;
  std::vector<std::string> bodies;
  for (int i = 0; i < kOrders; ++i) {
    auto buyer = NewUser();
    orders.push_back(Place(buyer, listing));
    intents.push_back(PayAtGateway(buyer, orders.back()));
    bodies.push_back(SucceededEvent(orders.back(), intents.back()));
  }
  // Deadlines and payments spread over the same 300 ms, while expire_orders runs again and again:
  // some payments come first, some expiries, some meet on the same row.
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> spread(0, 300);
  for (const auto& order : orders) {
    Query("UPDATE orders SET expires_at = now() + $2 * interval '1 millisecond' WHERE id = $1",
          order.id.value, spread(random) + 50);
  }
  std::vector<std::optional<Result<void>>> hooks(kOrders);
  std::vector<Task<void>> tasks;
  tasks.push_back(ExpireFor(maintenance_, 600ms));
  for (int i = 0; i < kOrders; ++i) {
    tasks.push_back(WebhookAfter(payments_, std::chrono::milliseconds(spread(random) + 50),
                                 bodies[i], hooks[i]));
  }
  RunConcurrently(io_, std::move(tasks));
  RunTask(io_, payments_.SendRefunds(std::nullopt));

  int paid = 0;
  for (int i = 0; i < kOrders; ++i) {
    SCOPED_TRACE("order " + std::to_string(orders[i].id.value));
    ASSERT_TRUE(hooks[i]);
    EXPECT_TRUE(hooks[i]->ok());
    Order order = Stored(orders[i].id);
    const std::int64_t refunded =
        Query("SELECT amount_refunded_cents AS n FROM local_payment_intents WHERE id = $1",
              intents[i])
            .Int(0, "n");
    if (order.Status() == OrderStatus::kPaid) {
      ++paid;
      EXPECT_TRUE(order.refunds.empty());
      EXPECT_EQ(refunded, 0);
      EXPECT_EQ(EventsOfType(order.id, "order.expired"), 0);
    } else {
      EXPECT_EQ(order.Status(), OrderStatus::kExpired);
      EXPECT_EQ(EventsOfType(order.id, "order.expired"), 1) << "expired once, by one side";
      ASSERT_EQ(order.refunds.size(), 1u) << "the payment that lost is refunded";
      EXPECT_EQ(order.refunds[0].status, "succeeded");
      EXPECT_EQ(refunded, order.total_cents);
    }
  }
  EXPECT_EQ(Listing(listing).quantity, kOrders - paid);
  EXPECT_EQ(Listing(listing).available(), kOrders - paid);
  EXPECT_EQ(Counter(listing), std::optional<int>(kOrders - paid));
}

// ---- reconcile_payments ----

TEST_F(JobsMaintenanceTest, ReconcilePaymentsPaysAnOrderWhoseWebhookNeverCameExactlyOnce) {
  auto seller = NewUser();
  auto listing = NewListing(seller, 3);
  auto buyer = NewUser();
  Order order = Place(buyer, listing, 2);
  // Paid at the gateway, whose webhook goes to a port where nobody listens: it never comes.
  const std::string intent = PayAtGateway(buyer, order);
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kPendingPayment);

  // Not before `age`: the webhook normally comes within seconds.
  RunTask(io_, payments_.ReconcileIntents(std::chrono::hours(1), 1000));
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kPendingPayment);

  ReconcileUntil(order.id, [&] { return Stored(order.id).Status() == OrderStatus::kPaid; });
  ASSERT_EQ(Stored(order.id).Status(), OrderStatus::kPaid);
  EXPECT_EQ(Listing(listing).quantity, 1);
  EXPECT_EQ(
      Count("SELECT count(*) AS n FROM payment_events WHERE event_id = $1", "reconciled:" + intent),
      1);
  // The webhook, late after all: nothing more happens.
  const std::string body = SucceededEvent(Stored(order.id), intent);
  ASSERT_TRUE(
      RunTask(io_, payments_.HandleWebhook(auth::SignWebhook(kSecret, UnixNow(), body), body))
          .ok());
  Query("UPDATE orders SET intent_checked_at = NULL WHERE id = $1", order.id.value);
  RunTask(io_, payments_.ReconcileIntents(std::chrono::seconds(0), 1000));
  EXPECT_EQ(EventsOfType(order.id, "order.paid"), 1);
  EXPECT_EQ(Listing(listing).quantity, 1);
  EXPECT_TRUE(Stored(order.id).refunds.empty());
}

TEST_F(JobsMaintenanceTest, ExpiringAnOrderWhosePaymentSucceededRefundsItWithoutTheWebhook) {
  auto seller = NewUser();
  auto listing = NewListing(seller, 2);
  auto buyer = NewUser();
  Order order = Place(buyer, listing);
  const std::string intent = PayAtGateway(buyer, order);
  ExpireLongAgo(order.id);
  RunTask(io_, maintenance_.ExpireOrders());
  Order expired = Stored(order.id);
  EXPECT_EQ(expired.Status(), OrderStatus::kExpired);
  ASSERT_EQ(expired.refunds.size(), 1u) << "the cancel found the payment and refunded it";
  EXPECT_EQ(expired.refunds[0].status, "succeeded");
  EXPECT_EQ(
      Query("SELECT amount_refunded_cents AS n FROM local_payment_intents WHERE id = $1", intent)
          .Int(0, "n"),
      order.total_cents);
  EXPECT_EQ(Listing(listing).quantity, 2);
  EXPECT_EQ(Count("SELECT count(*) AS n FROM orders WHERE id = $1 AND intent_settled_at IS NOT "
                  "NULL",
                  order.id.value),
            1);
}

TEST_F(JobsMaintenanceTest, ReconcilePaymentsCancelsTheIntentOfAClosedOrderWhoseCancelFailed) {
  auto seller = NewUser();
  auto listing = NewListing(seller, 2);
  auto buyer = NewUser();
  Order order = Place(buyer, listing);
  PaymentSession session = Must(RunTask(io_, payments_.StartPayment(buyer, order.id)), "start");
  Must(RunTask(io_, orders_service_.Cancel(buyer, order.id)), "cancel");
  EXPECT_EQ(Query("SELECT status FROM local_payment_intents WHERE id = $1", session.intent.id)
                .String(0, "status"),
            "canceled");
  // As if the provider had been down when the order was cancelled.
  Query("UPDATE local_payment_intents SET status = 'requires_payment_method' WHERE id = $1",
        session.intent.id);
  Query("UPDATE orders SET intent_settled_at = NULL WHERE id = $1", order.id.value);

  ReconcileUntil(order.id, [&] {
    return Count(
               "SELECT count(*) AS n FROM orders WHERE id = $1 AND intent_settled_at IS NOT "
               "NULL",
               order.id.value) == 1;
  });
  EXPECT_EQ(Query("SELECT status FROM local_payment_intents WHERE id = $1", session.intent.id)
                .String(0, "status"),
            "canceled");
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kCancelled);
  EXPECT_TRUE(Stored(order.id).refunds.empty());
}

TEST_F(JobsMaintenanceTest, ReconcilePaymentsJobAsksAboutOrdersPlacedTenMinutesAgo) {
  jobs::HandlerRegistry registry;
  jobs::AddMaintenanceHandlers(registry, maintenance_);
  auto listing = NewListing(NewUser(), 3);
  auto buyer = NewUser();
  Order order = Place(buyer, listing);
  PayAtGateway(buyer, order);
  // Other tests' orders in the shared database checked first, so that the job's bounded run
  // reaches this one.
  while (RunTask(io_, payments_.ReconcileIntents(std::chrono::minutes(10), 1000)).checked > 0) {
  }
  Query("UPDATE orders SET created_at = now() - interval '11 minutes' WHERE id = $1",
        order.id.value);
  const auto before = metrics_.items("reconcile_payments", "paid_without_webhook");
  services::Job job{.id = 1, .kind = "reconcile_payments", .payload = "{}"};
  jobs::JobContext context{.job = job};
  RunTask(io_, (*registry.Find("reconcile_payments"))(context));
  EXPECT_EQ(Stored(order.id).Status(), OrderStatus::kPaid);
  EXPECT_GE(metrics_.items("reconcile_payments", "paid_without_webhook"), before + 1);
}

// ---- reconcile_stock ----

TEST_F(JobsMaintenanceTest, ReconcileStockRepairsADriftedCounterAndLeavesACorrectOne) {
  auto seller = NewUser();
  auto drifted = NewListing(seller, 10);
  auto correct = NewListing(seller, 10);
  auto too_low = NewListing(seller, 10);
  Place(NewUser(), drifted, 2);
  Place(NewUser(), correct, 3);
  Place(NewUser(), too_low, 1);
  ASSERT_EQ(Counter(drifted), std::optional<int>(8));
  ASSERT_EQ(Counter(correct), std::optional<int>(7));
  SetCounter(drifted, 50);
  SetCounter(too_low, 0);
  const ListingId gone{999'999'999'999};
  SetCounter(gone, 4);

  jobs::ReconcileReport report = RunTask(io_, maintenance_.ReconcileStock());
  EXPECT_EQ(report.checked, 4);
  EXPECT_EQ(report.corrected, 3);
  EXPECT_TRUE(report.complete);
  EXPECT_EQ(metrics_.corrections(), 3);
  EXPECT_NE(
      metrics_.Render().find("marketplace_stock_counter_corrections_total{drift=\"too_low\"} 1"),
      std::string::npos)
      << metrics_.Render();
  EXPECT_EQ(Counter(drifted), std::nullopt) << "dropped, to be re-seeded";
  EXPECT_EQ(Counter(too_low), std::nullopt);
  EXPECT_EQ(Counter(gone), std::nullopt);
  EXPECT_EQ(Counter(correct), std::optional<int>(7)) << "a correct counter is left alone";

  // The next checkout re-seeds from PostgreSQL, and a second run finds nothing to correct.
  Place(NewUser(), drifted, 1);
  Place(NewUser(), too_low, 4);
  EXPECT_EQ(Counter(drifted), std::optional<int>(7));
  EXPECT_EQ(Counter(too_low), std::optional<int>(5));
  jobs::ReconcileReport again = RunTask(io_, maintenance_.ReconcileStock());
  EXPECT_EQ(again.checked, 3);
  EXPECT_EQ(again.corrected, 0);
}

TEST_F(JobsMaintenanceTest, ReconcileStockLeavesACounterThatChangedSinceItWasRead) {
  auto listing = NewListing(NewUser(), 10);
  Place(NewUser(), listing, 1);
  ASSERT_EQ(Counter(listing), std::optional<int>(9));
  // What reconcile read (5) is no longer there: a checkout took from the counter meanwhile.
  SetCounter(listing, 4);
  std::vector<services::StockLevel> seen;
  seen.push_back(services::StockLevel{listing, 5});
  EXPECT_TRUE(RunTask(io_, gate_.DropIfUnchanged(seen)).empty());
  EXPECT_EQ(Counter(listing), std::optional<int>(4));
  seen[0].available = 4;
  auto dropped = RunTask(io_, gate_.DropIfUnchanged(seen));
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0], listing);
  EXPECT_EQ(Counter(listing), std::nullopt);
}

TEST_F(JobsMaintenanceTest, ReconcileStockRunningThroughAFlashSaleNeverLetsItOversell) {
  constexpr int kStock = 25;
  auto listing = NewListing(NewUser(), kStock);
  int runs = 0;
  const int placed = RaceWithReconcile(listing, 150, runs);
  EXPECT_GT(runs, 1) << "reconcile ran during the sale";
  EXPECT_GT(metrics_.corrections(), 0) << "reconcile repaired drift during the sale";
  EXPECT_LE(placed, kStock);
  EXPECT_EQ(Sold(listing), placed) << "PostgreSQL holds exactly the orders that were placed";
  EXPECT_LE(Sold(listing), kStock);

  // Once the sale is over, one more run leaves the counter (if any) equal to what is available.
  RunTask(io_, maintenance_.ReconcileStock());
  const int available = Listing(listing).available();
  EXPECT_EQ(available, kStock - placed);
  if (auto counter = Counter(listing)) {
    EXPECT_EQ(*counter, available);
  }

  // And no stock was lost to drift: later buyers get exactly what is left.
  int later = 0;
  for (int i = 0; i < available + 3; ++i) {
    auto buyer = NewUser();
    // Refused once nothing is left: the cart checks availability too.
    if (!RunTask(io_, cart_.SetItem(buyer, listing, 1)).ok()) continue;
    std::string key = "later-" + RandomSuffix();
    auto result = RunTask(io_, checkout_.PlaceOrder(buyer, key, "body", Address()));
    if (result.ok()) {
      ++later;
      orders_placed_.push_back(result->order.id.value);
    }
  }
  EXPECT_EQ(later, available);
  EXPECT_EQ(Sold(listing), kStock);
  EXPECT_EQ(Listing(listing).available(), 0);
  // Sold out, no counter may admit anyone (a missing one is seeded from PostgreSQL: 0).
  if (auto counter = Counter(listing)) {
    EXPECT_EQ(*counter, 0);
  }
}

TEST_F(JobsMaintenanceTest, AfterTheCountersVanishCheckoutsStillNeverOversell) {
  constexpr int kStock = 8;
  auto listing = NewListing(NewUser(), kStock);
  Place(NewUser(), listing, 2);
  ASSERT_EQ(Counter(listing), std::optional<int>(kStock - 2));
  // FLUSHALL, for this test's keys: counters and holds.
  auto keys = RunTask(io_, redis_.Command(Argv("KEYS", prefix_ + "*")));
  for (const auto& key : keys.elements) RunTask(io_, redis_.Command(Argv("DEL", key.str)));
  ASSERT_EQ(Counter(listing), std::nullopt);
  jobs::ReconcileReport report = RunTask(io_, maintenance_.ReconcileStock());
  EXPECT_EQ(report.checked, 0) << "a missing counter is not invented: checkout seeds it";

  int runs = 0;
  const int placed = RaceWithReconcile(listing, 40, runs);
  EXPECT_LE(placed + 2, kStock);
  EXPECT_EQ(Sold(listing), placed + 2);
  RunTask(io_, maintenance_.ReconcileStock());
  if (auto counter = Counter(listing)) {
    EXPECT_EQ(*counter, Listing(listing).available());
  }
  EXPECT_EQ(Listing(listing).available(), kStock - 2 - placed);
}

TEST_F(JobsMaintenanceTest, ReconcileStockWithRedisDownChecksNothingAndDoesNotFail) {
  redis::Client down(io_.get_executor(), redis::ClientOptions{.port = 1});
  redis::RedisStockGate gate(down, redis::StockGateOptions{.key_prefix = prefix_});
  jobs::Maintenance maintenance(orders_service_, payments_, orders_, gate, repository_, metrics_);
  jobs::ReconcileReport report = RunTask(io_, maintenance.ReconcileStock());
  EXPECT_EQ(report.checked, 0);
  EXPECT_FALSE(report.complete) << "the next run checks the counters";
}

// ---- cleanup ----

TEST_F(JobsMaintenanceTest, CleanupDeletesOnlyWhatIsOld) {
  auto user = NewUser();
  const std::int64_t uid = user.user.id.value;
  const std::int64_t expired_family = Insert(
      "INSERT INTO session_families (user_id, expires_at) VALUES ($1, now() - interval '1 hour') "
      "RETURNING id",
      uid);
  Query(
      "INSERT INTO refresh_tokens (family_id, token_hash) VALUES ($1, "
      "sha256(random()::text::bytea))",
      expired_family);
  const std::int64_t revoked_family = Insert(
      "INSERT INTO session_families (user_id, expires_at, revoked_at) VALUES ($1, now() + "
      "interval '1 day', now() - interval '10 days') RETURNING id",
      uid);
  const std::int64_t live_family = Insert(
      "INSERT INTO session_families (user_id, expires_at) VALUES ($1, now() + interval '30 days') "
      "RETURNING id",
      uid);

  Query(
      "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES "
      "($1, 'old', '\\x00', now() - interval '25 hours'), ($1, 'new', '\\x00', now() - interval "
      "'23 hours')",
      uid);

  const std::string old_event = "evt_old_" + RandomSuffix();
  const std::string new_event = "evt_new_" + RandomSuffix();
  Query(
      "INSERT INTO payment_events (provider, event_id, type, outcome, received_at) VALUES "
      "('test', $1, 'payment_intent.succeeded', 'paid', now() - interval '31 days'), "
      "('test', $2, 'payment_intent.succeeded', 'paid', now() - interval '29 days')",
      old_event, new_event);

  const std::string intent = "pi_maint_" + RandomSuffix();
  Query(
      "INSERT INTO local_payment_intents (id, client_secret, amount_cents, currency) VALUES "
      "($1, $1 || '_secret', 100, 'USD')",
      intent);
  auto webhook = [this, &intent](std::string_view state) {
    const std::string id = "evt_local_maint_" + RandomSuffix();
    Query(
        "INSERT INTO local_webhook_events (id, type, intent_id, payload, created_at) VALUES "
        "($1, 'payment_intent.canceled', $2, '{}', now() - interval '40 days')",
        id, intent);
    if (state == "delivered_old")
      Query(
          "UPDATE local_webhook_events SET delivered_at = now() - interval '31 days' WHERE id = "
          "$1",
          id);
    if (state == "failed_old")
      Query("UPDATE local_webhook_events SET failed_at = now() - interval '31 days' WHERE id = $1",
            id);
    if (state == "delivered_new")
      Query(
          "UPDATE local_webhook_events SET delivered_at = now() - interval '29 days' WHERE id = "
          "$1",
          id);
    return id;
  };
  const std::string delivered_old = webhook("delivered_old");
  const std::string failed_old = webhook("failed_old");
  const std::string delivered_new = webhook("delivered_new");
  const std::string undelivered = webhook("undelivered");

  auto job = [this](std::string_view status, std::string_view finished_ago) {
    const bool finished = status == "succeeded" || status == "dead";
    return Insert(
        "INSERT INTO jobs (kind, status, finished_at) VALUES ('noop', $1, CASE WHEN $2 THEN "
        "now() - $3::interval END) RETURNING id",
        status, finished, finished_ago);
  };
  const std::int64_t old_job = job("succeeded", "8 days");
  const std::int64_t new_job = job("succeeded", "6 days");
  const std::int64_t dead_job = job("dead", "8 days");

  jobs::CleanupReport report = RunTask(io_, maintenance_.Cleanup());
  EXPECT_GE(report.sessions, 1);
  EXPECT_GE(report.idempotency_keys, 1);
  EXPECT_GE(report.payment_events, 1);
  EXPECT_GE(report.webhook_events, 2);
  EXPECT_GE(report.jobs, 1);

  EXPECT_FALSE(Exists("session_families WHERE id", expired_family));
  EXPECT_EQ(Count("SELECT count(*) AS n FROM refresh_tokens WHERE family_id = $1", expired_family),
            0);
  EXPECT_TRUE(Exists("session_families WHERE id", revoked_family))
      << "a revoked family stays until it expires (reuse detection)";
  EXPECT_TRUE(Exists("session_families WHERE id", live_family));
  EXPECT_EQ(
      Count("SELECT count(*) AS n FROM idempotency_keys WHERE user_id = $1 AND key = 'old'", uid),
      0);
  EXPECT_EQ(
      Count("SELECT count(*) AS n FROM idempotency_keys WHERE user_id = $1 AND key = 'new'", uid),
      1);
  EXPECT_EQ(Count("SELECT count(*) AS n FROM payment_events WHERE event_id = $1", old_event), 0);
  EXPECT_EQ(Count("SELECT count(*) AS n FROM payment_events WHERE event_id = $1", new_event), 1);
  auto webhook_rows = [this](const std::string& id) {
    return Count("SELECT count(*) AS n FROM local_webhook_events WHERE id = $1", id);
  };
  EXPECT_EQ(webhook_rows(delivered_old), 0);
  EXPECT_EQ(webhook_rows(failed_old), 0);
  EXPECT_EQ(webhook_rows(delivered_new), 1);
  EXPECT_EQ(webhook_rows(undelivered), 1) << "not processed yet, however old";
  EXPECT_FALSE(Exists("jobs WHERE id", old_job));
  EXPECT_TRUE(Exists("jobs WHERE id", new_job));
  EXPECT_TRUE(Exists("jobs WHERE id", dead_job)) << "dead jobs stay for an operator";

  jobs::CleanupReport again = RunTask(io_, maintenance_.Cleanup());
  EXPECT_TRUE(Exists("session_families WHERE id", revoked_family));
  EXPECT_TRUE(Exists("jobs WHERE id", new_job));
  EXPECT_EQ(again.sessions + again.idempotency_keys + again.payment_events + again.webhook_events +
                again.jobs,
            0);
}

// ---- purge_inactive ----

TEST_F(JobsMaintenanceTest, PurgeInactiveAnonymisesAnOldDeletedAccountAndKeepsItsOrders) {
  auto old_seller = NewUser();
  auto recent = NewUser();
  auto other_seller = NewUser();
  auto buyer = NewUser();
  const std::int64_t old_id = old_seller.user.id.value;

  auto sold = NewListing(old_seller, 5);
  auto unsold = NewListing(old_seller, 5);
  auto recent_listing = NewListing(recent, 5);
  auto bought = NewListing(other_seller, 5);
  Order sale = Place(buyer, sold, 2);
  Order purchase = Place(old_seller, bought, 1);
  for (auto listing : {sold, unsold}) {
    Query(
        "INSERT INTO listing_images (listing_id, position, is_main, original_key, small_key, "
        "large_key, format, width, height, bytes) VALUES ($1, 0, true, 'aa/bb/o.jpg', "
        "'aa/bb/s.webp', 'aa/bb/l.webp', 'jpeg', 10, 10, 100)",
        listing.value);
  }
  Query("INSERT INTO session_families (user_id, expires_at) VALUES ($1, now() + interval '1 day')",
        old_id);
  Must(RunTask(io_, cart_.SetItem(buyer, unsold, 1)), "add to cart");

  auto retired_unsold = NewListing(other_seller, 3);
  auto retired_sold = NewListing(other_seller, 3);
  auto retired_recently = NewListing(other_seller, 3);
  Place(NewUser(), retired_sold, 1);
  Query(
      "UPDATE listings SET status = 'inactive', status_changed_at = now() - interval '31 days' "
      "WHERE id = ANY($1::bigint[])",
      BigintArray({retired_unsold.value, retired_sold.value}));
  Query(
      "UPDATE listings SET status = 'inactive', status_changed_at = now() - interval '29 days' "
      "WHERE id = $1",
      retired_recently.value);

  Query("UPDATE users SET deleted_at = now() - interval '31 days' WHERE id = $1", old_id);
  Query("UPDATE users SET deleted_at = now() - interval '29 days' WHERE id = $1",
        recent.user.id.value);

  jobs::PurgeReport report = RunTask(io_, maintenance_.PurgeInactive());
  EXPECT_GE(report.accounts, 1);

  auto row = Query(
      "SELECT username::text AS username, email::text AS email, display_name, password_hash, "
      "anonymized_at IS NOT NULL AS anonymized FROM users WHERE id = $1",
      old_id);
  EXPECT_EQ(row.String(0, "username"), "deleted-" + std::to_string(old_id));
  EXPECT_EQ(row.String(0, "email"), "deleted-" + std::to_string(old_id) + "@invalid");
  EXPECT_EQ(row.String(0, "display_name"), "Deleted user");
  EXPECT_EQ(row.String(0, "password_hash"), "");
  EXPECT_TRUE(row.Bool(0, "anonymized"));
  EXPECT_EQ(Count("SELECT count(*) AS n FROM session_families WHERE user_id = $1", old_id), 0);

  EXPECT_FALSE(Exists("listings WHERE id", unsold.value)) << "no order refers to it";
  EXPECT_EQ(Count("SELECT count(*) AS n FROM cart_items WHERE listing_id = $1", unsold.value), 0);
  ASSERT_TRUE(Exists("listings WHERE id", sold.value)) << "an order refers to it";
  EXPECT_EQ(Query("SELECT status FROM listings WHERE id = $1", sold.value).String(0, "status"),
            "deleted");
  EXPECT_EQ(Count("SELECT count(*) AS n FROM listing_images WHERE listing_id = $1", sold.value), 0);

  // The orders stay, as both sides' records, with what was bought from whom.
  Order kept_sale = Stored(sale.id);
  ASSERT_EQ(kept_sale.items.size(), 1u);
  EXPECT_EQ(kept_sale.items[0].seller_username, old_seller.user.username);
  EXPECT_EQ(kept_sale.items[0].title, "Maintenance item");
  EXPECT_EQ(kept_sale.total_cents, sale.total_cents);
  EXPECT_EQ(Stored(purchase.id).buyer_id, old_seller.user.id);

  // A recent deletion waits its 30 days.
  auto recent_row = Query(
      "SELECT username::text AS username, anonymized_at IS NULL AS untouched FROM users WHERE id "
      "= $1",
      recent.user.id.value);
  EXPECT_EQ(recent_row.String(0, "username"), recent.user.username);
  EXPECT_TRUE(recent_row.Bool(0, "untouched"));
  EXPECT_TRUE(Exists("listings WHERE id", recent_listing.value));

  EXPECT_FALSE(Exists("listings WHERE id", retired_unsold.value));
  EXPECT_TRUE(Exists("listings WHERE id", retired_sold.value));
  EXPECT_TRUE(Exists("listings WHERE id", retired_recently.value));

  // A second run changes nothing of what the first did.
  const std::string anonymized_at =
      Query("SELECT anonymized_at::text AS t FROM users WHERE id = $1", old_id).String(0, "t");
  RunTask(io_, maintenance_.PurgeInactive());
  EXPECT_EQ(
      Query("SELECT anonymized_at::text AS t FROM users WHERE id = $1", old_id).String(0, "t"),
      anonymized_at);
  EXPECT_TRUE(Exists("listings WHERE id", sold.value));
}

}  // namespace
}  // namespace market
