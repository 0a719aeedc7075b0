// The cart against the real PostgreSQL: the 50-line limit holds under concurrent requests.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "db/db_support.hpp"
#include "db/users_support.hpp"
#include "services/cart/cart_service.hpp"
#include "storage/pg/carts_repository.hpp"
#include "storage/pg/listings_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/pool.hpp"

namespace market {
namespace {

class CartTest : public ::testing::Test {
 protected:
  CartTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 8}),
        listings_(pool_),
        carts_(pool_),
        cart_(carts_, listings_) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
  }

  services::Principal NewUser() { return InsertTestUser(io_, pool_, "cart"); }

  ListingId NewListing(const services::Principal& seller) {
    domain::ListingDraft draft{.title = "Cart item",
                               .price_cents = 100,
                               .currency = "USD",
                               .quantity = 5,
                               .category = "other",
                               .condition = "good"};
    return RunTask(io_, listings_.Insert(seller.user.id, draft)).id;
  }

  boost::asio::io_context io_;
  pg::Pool pool_;
  pg::PgListingsRepository listings_;
  pg::PgCartsRepository carts_;
  services::CartService cart_;
};

TEST_F(CartTest, ConcurrentAddsNeverTakeACartPastFiftyLines) {
  auto seller = NewUser();
  auto buyer = NewUser();
  for (int i = 0; i < 45; ++i) {
    ASSERT_TRUE(RunTask(io_, cart_.SetItem(buyer, NewListing(seller), 1)).ok());
  }
  std::vector<ListingId> extra;
  for (int i = 0; i < 10; ++i) extra.push_back(NewListing(seller));
  std::vector<std::optional<Result<domain::Cart>>> results(extra.size());
  for (std::size_t i = 0; i < extra.size(); ++i) {
    auto add = [](services::CartService& cart, services::Principal buyer, ListingId id,
                  std::optional<Result<domain::Cart>>& out) -> Task<void> {
      out.emplace(co_await cart.SetItem(buyer, id, 1));
    };
    boost::asio::co_spawn(io_, add(cart_, buyer, extra[i], results[i]), boost::asio::detached);
  }
  io_.restart();
  io_.run();
  int added = 0;
  for (auto& result : results) {
    ASSERT_TRUE(result.has_value());
    if (result->ok()) {
      ++added;
    } else {
      EXPECT_EQ(result->error().code, ErrorCode::kConflict);
    }
  }
  EXPECT_EQ(added, 5);
  EXPECT_EQ(RunTask(io_, cart_.Get(buyer)).lines.size(), 50u);
  // In a full cart, changing the quantity of a line it holds is fine; a new line is not.
  for (std::size_t i = 0; i < extra.size(); ++i) {
    auto again = RunTask(io_, cart_.SetItem(buyer, extra[i], 2));
    EXPECT_EQ(again.ok(), results[i]->ok()) << "listing " << extra[i].value;
  }
}

TEST_F(CartTest, OneBuyersCartIsInvisibleToAnother) {
  auto seller = NewUser();
  auto a = NewUser();
  auto b = NewUser();
  auto listing = NewListing(seller);
  ASSERT_TRUE(RunTask(io_, cart_.SetItem(a, listing, 2)).ok());
  EXPECT_TRUE(RunTask(io_, cart_.Get(b)).lines.empty());
  RunTask(io_, cart_.RemoveItem(b, listing));
  RunTask(io_, cart_.Clear(b));
  auto kept = RunTask(io_, cart_.Get(a));
  ASSERT_EQ(kept.lines.size(), 1u);
  EXPECT_EQ(kept.lines[0].quantity, 2);
}

}  // namespace
}  // namespace market
