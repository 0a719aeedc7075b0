// Checkout against the real PostgreSQL: stock is never oversold under any concurrency, a retried
// request never acts twice, overlapping carts never deadlock.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <set>

#include "clients/payments/local_gateway.hpp"
#include "db/db_support.hpp"
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

using services::PlacedOrder;

domain::ShippingAddress Address() {
  return domain::ShippingAddress{
      .recipient_name = "Ada Buyer", .line1 = "1 Main St", .city = "Springfield", .country = "us"};
}

// Every test runs twice: with the Redis stock gate in front of PostgreSQL, and with Redis
// unreachable, where PostgreSQL alone must keep the same promises.
redis::ClientOptions GateRedis(bool reachable) {
  if (reachable) return redis::ParseRedisUrl(TestRedisUrl());
  return redis::ClientOptions{.port = 1};  // nothing listens there
}

class CheckoutTest : public ::testing::TestWithParam<bool> {
 protected:
  CheckoutTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 8}),
        redis_(io_.get_executor(), GateRedis(GetParam())),
        gate_(redis_, redis::StockGateOptions{.key_prefix = UniqueRedisKey("checkout", "stock:")}),
        jobs_queue_(pool_),
        gateway_(pool_, jobs_queue_,
                 clients::LocalGatewayOptions{.webhook_url = "http://127.0.0.1:1/",
                                              .webhook_secret = std::string(32, 'w')},
                 clock_),
        listings_(pool_),
        carts_(pool_),
        orders_(pool_),
        cart_(carts_, listings_),
        checkout_(pool_, orders_, gate_, clock_, services::CheckoutOptions{}),
        payments_(pool_, orders_, gate_, gateway_, clock_),
        order_views_(pool_, orders_, gate_, payments_, clock_, services::OrdersOptions{}) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
  }

  services::Principal NewUser() { return InsertTestUser(io_, pool_, "co"); }

  ListingId NewListing(const services::Principal& seller, std::int64_t quantity,
                       std::int64_t price = 1500) {
    domain::ListingDraft draft{.title = "Flash sale item",
                               .price_cents = price,
                               .currency = "USD",
                               .quantity = quantity,
                               .category = "other",
                               .condition = "new"};
    return RunTask(io_, listings_.Insert(seller.user.id, draft)).id;
  }

  std::int64_t Scalar(std::string_view sql, std::int64_t id) {
    auto result = RunTask(io_, pool_.Execute(pg::Statement{"test.scalar", sql}, pg::Params(id)));
    return result.Int(0, "n");
  }

  // Runs every checkout at once and waits for all of them.
  std::vector<Result<PlacedOrder>> Race(const std::vector<services::Principal>& buyers,
                                        const std::vector<std::string>& keys) {
    std::vector<std::optional<Result<PlacedOrder>>> out(buyers.size());
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < buyers.size(); ++i) {
      auto place = [](services::CheckoutService& checkout, services::Principal buyer,
                      std::string key, std::optional<Result<PlacedOrder>>& result) -> Task<void> {
        domain::ShippingAddress address = Address();
        result.emplace(
            co_await checkout.PlaceOrder(buyer, std::move(key), "same body", std::move(address)));
      };
      tasks.push_back(place(checkout_, buyers[i], keys[i], out[i]));
    }
    RunConcurrently(io_, std::move(tasks));
    std::vector<Result<PlacedOrder>> results;
    for (auto& result : out) results.push_back(std::move(*result));
    return results;
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
  services::OrdersService order_views_;
};

TEST_P(CheckoutTest, AFlashSaleNeverSellsMoreThanTheStock) {
  auto seller = NewUser();
  auto listing = NewListing(seller, 20);
  std::vector<services::Principal> buyers;
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) {
    buyers.push_back(NewUser());
    keys.push_back("flash-" + std::to_string(i));
    ASSERT_TRUE(RunTask(io_, cart_.SetItem(buyers.back(), listing, 1)).ok());
  }
  auto results = Race(buyers, keys);
  int orders = 0;
  for (auto& result : results) {
    if (result.ok()) {
      ++orders;
      EXPECT_EQ(result->order.total_cents, 1500);
    } else {
      EXPECT_EQ(result.error().code, ErrorCode::kConflict) << result.error().message;
    }
  }
  EXPECT_EQ(orders, 20);
  EXPECT_EQ(Scalar("SELECT coalesce(sum(quantity), 0) AS n FROM order_items WHERE listing_id = $1",
                   listing.value),
            20);
  auto stored = RunTask(io_, listings_.Find(listing));
  EXPECT_EQ(stored->available(), 0);
  EXPECT_EQ(stored->quantity, 20) << "stock on hand only drops when paid";
  if (GetParam()) {
    EXPECT_EQ(RunTask(io_, gate_.Peek(listing)), std::optional<int>(0))
        << "the Redis counter agrees with PostgreSQL";
  }
}

TEST_P(CheckoutTest, OverlappingCartsInOppositeOrderNeitherDeadlockNorOversell) {
  auto seller = NewUser();
  auto a = NewListing(seller, 30);
  auto b = NewListing(seller, 30);
  std::vector<services::Principal> buyers;
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) {
    buyers.push_back(NewUser());
    keys.push_back("overlap-" + std::to_string(i));
    // Half put A first, half B first: the cart order must not decide the lock order.
    auto first = i % 2 == 0 ? a : b;
    auto second = i % 2 == 0 ? b : a;
    ASSERT_TRUE(RunTask(io_, cart_.SetItem(buyers.back(), first, 1)).ok());
    ASSERT_TRUE(RunTask(io_, cart_.SetItem(buyers.back(), second, 1)).ok());
  }
  auto results = Race(buyers, keys);
  int orders = 0;
  for (auto& result : results) orders += result.ok() ? 1 : 0;
  EXPECT_EQ(orders, 30);
  for (auto listing : {a, b}) {
    EXPECT_EQ(
        Scalar("SELECT coalesce(sum(quantity), 0) AS n FROM order_items WHERE listing_id = $1",
               listing.value),
        30);
  }
}

TEST_P(CheckoutTest, TheSameIdempotencyKeyTenTimesAtOnceMakesOneOrder) {
  auto seller = NewUser();
  auto listing = NewListing(seller, 5);
  auto buyer = NewUser();
  ASSERT_TRUE(RunTask(io_, cart_.SetItem(buyer, listing, 2)).ok());
  std::vector<services::Principal> buyers(10, buyer);
  std::vector<std::string> keys(10, "retry-" + RandomSuffix());
  auto results = Race(buyers, keys);
  std::set<std::int64_t> ids;
  int replays = 0;
  for (auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.error().message;
    ids.insert(result->order.id.value);
    replays += result->replayed ? 1 : 0;
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(replays, 9);
  EXPECT_EQ(Scalar("SELECT count(*) AS n FROM orders WHERE buyer_id = $1", buyer.user.id.value), 1);
  EXPECT_TRUE(RunTask(io_, cart_.Get(buyer)).lines.empty()) << "the cart empties with the order";
}

TEST_P(CheckoutTest, TheSameKeyWithAnotherBodyIsRefused) {
  auto seller = NewUser();
  auto buyer = NewUser();
  ASSERT_TRUE(RunTask(io_, cart_.SetItem(buyer, NewListing(seller, 5), 1)).ok());
  auto first = RunTask(io_, checkout_.PlaceOrder(buyer, "k1", "body one", Address()));
  ASSERT_TRUE(first.ok());
  auto second = RunTask(io_, checkout_.PlaceOrder(buyer, "k1", "body two", Address()));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kValidationFailed);
}

TEST_P(CheckoutTest, TheOrderKeepsWhatWasBoughtWhenTheListingChanges) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 5, 2500);
  ASSERT_TRUE(RunTask(io_, cart_.SetItem(buyer, listing, 2)).ok());
  auto placed = RunTask(io_, checkout_.PlaceOrder(buyer, "snap", "body", Address()));
  ASSERT_TRUE(placed.ok());
  domain::ListingPatch patch{.title = "Renamed", .price_cents = 9999};
  ASSERT_TRUE(RunTask(io_, listings_.Update(listing, patch, std::nullopt)).ok());
  auto order = RunTask(io_, order_views_.Get(buyer, placed->order.id));
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(order->items.at(0).title, "Flash sale item");
  EXPECT_EQ(order->items.at(0).unit_price_cents, 2500);
  EXPECT_EQ(order->total_cents, 5000);
  EXPECT_EQ(order->shipping_address.country, "US");
  auto stranger = NewUser();
  EXPECT_FALSE(RunTask(io_, order_views_.Get(stranger, placed->order.id)).ok());
  auto seen_by_seller = RunTask(io_, order_views_.Get(seller, placed->order.id));
  ASSERT_TRUE(seen_by_seller.ok());
  EXPECT_EQ(seen_by_seller->items.size(), 1u);
}

TEST_P(CheckoutTest, ReservedStockCannotBeEditedAway) {
  auto seller = NewUser();
  auto buyer = NewUser();
  auto listing = NewListing(seller, 5);
  ASSERT_TRUE(RunTask(io_, cart_.SetItem(buyer, listing, 3)).ok());
  ASSERT_TRUE(RunTask(io_, checkout_.PlaceOrder(buyer, "res", "body", Address())).ok());
  auto stored = RunTask(io_, listings_.Find(listing));
  EXPECT_EQ(stored->reserved, 3);
  EXPECT_EQ(stored->available(), 2);
}

INSTANTIATE_TEST_SUITE_P(Gate, CheckoutTest, ::testing::Values(true, false), [](const auto& info) {
  return info.param ? "WithRedis" : "WithoutRedis";
});

}  // namespace
}  // namespace market
