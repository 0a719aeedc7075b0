// The address book against the real PostgreSQL: at most 20 addresses and one default per user
// under any concurrency, nobody touches another user's addresses, and orders keep the address
// they were placed with whatever happens to it afterwards.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "clients/geocoding/offline_geocoder.hpp"
#include "db/db_support.hpp"
#include "db/order_support.hpp"
#include "db/users_support.hpp"
#include "geo_support.hpp"
#include "services/addresses/addresses_service.hpp"
#include "services/cart/cart_service.hpp"
#include "services/orders/checkout_service.hpp"
#include "storage/pg/addresses_repository.hpp"
#include "storage/pg/carts_repository.hpp"
#include "storage/pg/listings_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/orders_repository.hpp"
#include "storage/pg/params.hpp"
#include "storage/pg/pool.hpp"
#include "storage/redis/stock_gate.hpp"

namespace market {
namespace {

using domain::AddressId;
using domain::SavedAddress;
using domain::ShippingAddress;

// Admits everything, or nothing: the rate limits are the service's to apply, not to test here.
class FixedLimiter final : public services::RateLimiter {
 public:
  bool allow = true;
  Task<services::RateDecision> Take(const std::string&, const services::RateRule&) override {
    co_return services::RateDecision{.allowed = allow,
                                     .retry_after = std::chrono::milliseconds(allow ? 0 : 1500)};
  }
};

ShippingAddress SaoPaulo() {
  return ShippingAddress{.recipient_name = "Ada Buyer",
                         .line1 = "Rua Direita 10",
                         .city = "Sao Paolo",
                         .postal_code = "01002000",
                         .country = "br"};
}

class AddressesTest : public ::testing::Test {
 protected:
  AddressesTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 8}),
        redis_(io_.get_executor(), redis::ParseRedisUrl(TestRedisUrl())),
        gate_(redis_, redis::StockGateOptions{.key_prefix = UniqueRedisKey("addresses", "stock:")}),
        geocoder_(RealPlaces()),
        repository_(pool_),
        addresses_(repository_, geocoder_, limiter_, clock_, services::AddressesOptions{}),
        listings_(pool_),
        carts_(pool_),
        orders_(pool_),
        cart_(carts_, listings_),
        checkout_(pool_, orders_, gate_, clock_, services::CheckoutOptions{}, &addresses_) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
  }

  services::Principal NewUser() { return InsertTestUser(io_, pool_, "addr"); }

  SavedAddress Add(const services::Principal& user, ShippingAddress address = SaoPaulo(),
                   bool is_default = false) {
    return Must(RunTask(io_, addresses_.Add(user, std::move(address), is_default)), "add");
  }

  // `name` must be unique to `sql`: statements are prepared by name.
  std::int64_t Scalar(std::string_view name, std::string_view sql, std::int64_t id) {
    auto result = RunTask(io_, pool_.Execute(pg::Statement{name, sql}, pg::Params(id)));
    return result.Int(0, "n");
  }

  std::int64_t Count(const services::Principal& user) {
    return Scalar("test.addresses", "SELECT count(*) AS n FROM addresses WHERE user_id = $1",
                  user.user.id.value);
  }

  std::int64_t Defaults(const services::Principal& user) {
    return Scalar("test.defaults",
                  "SELECT count(*) AS n FROM addresses WHERE user_id = $1 AND is_default",
                  user.user.id.value);
  }

  // A buyer with one line in their cart.
  services::Principal BuyerWithCart() {
    services::Principal seller = NewUser();
    services::Principal buyer = NewUser();
    domain::ListingDraft draft{.title = "Brass lamp",
                               .price_cents = 1500,
                               .currency = "USD",
                               .quantity = 5,
                               .category = "other",
                               .condition = "new"};
    ListingId listing = RunTask(io_, listings_.Insert(seller.user.id, draft)).id;
    Must(RunTask(io_, cart_.SetItem(buyer, listing, 1)), "put in cart");
    return buyer;
  }

  boost::asio::io_context io_;
  SystemClock clock_;
  pg::Pool pool_;
  redis::Client redis_;
  redis::RedisStockGate gate_;
  FixedLimiter limiter_;
  clients::OfflineGeocoder geocoder_;
  pg::PgAddressesRepository repository_;
  services::AddressesService addresses_;
  pg::PgListingsRepository listings_;
  pg::PgCartsRepository carts_;
  pg::PgOrdersRepository orders_;
  services::CartService cart_;
  services::CheckoutService checkout_;
};

TEST_F(AddressesTest, StoresTheNormalisedAddressWithItsCheck) {
  services::Principal user = NewUser();
  SavedAddress saved = Add(user);
  EXPECT_EQ(saved.address.city, "São Paulo");
  EXPECT_EQ(saved.address.postal_code, "01002-000");
  EXPECT_EQ(saved.address.country, "BR");
  EXPECT_TRUE(saved.is_default);
  EXPECT_EQ(saved.check.precision, domain::Precision::kCity);
  EXPECT_EQ(saved.check.provider, "offline");
  EXPECT_EQ(saved.check.place_id, "geonames:3448439");
  ASSERT_TRUE(saved.check.latitude);
  EXPECT_NEAR(*saved.check.latitude, -23.5475, 1e-5);

  auto listed = RunTask(io_, addresses_.List(user));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].address, saved.address);
  EXPECT_NEAR(*listed[0].check.longitude, -46.63611, 1e-5);
}

TEST_F(AddressesTest, RefusesAnAddressTheGeocoderCannotPlaceAndStoresNothing) {
  services::Principal user = NewUser();
  ShippingAddress address = SaoPaulo();
  address.city = "Toronto";
  address.postal_code = "1";
  auto added = RunTask(io_, addresses_.Add(user, address, false));
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, ErrorCode::kValidationFailed);
  ASSERT_EQ(added.error().fields.size(), 2u);
  EXPECT_EQ(added.error().fields[0].field, "postal_code");
  EXPECT_EQ(added.error().fields[1].field, "city");
  EXPECT_EQ(Count(user), 0);
}

TEST_F(AddressesTest, KeepsExactlyOneDefaultAndPromotesTheNewestWhenItIsDeleted) {
  services::Principal user = NewUser();
  SavedAddress first = Add(user);
  SavedAddress second = Add(user);
  SavedAddress third = Add(user, SaoPaulo(), true);
  EXPECT_TRUE(first.is_default);
  EXPECT_FALSE(second.is_default);
  EXPECT_TRUE(third.is_default);
  EXPECT_EQ(Defaults(user), 1);

  auto made = RunTask(io_, addresses_.Update(user, first.id, {.is_default = true}));
  ASSERT_TRUE(made.ok());
  EXPECT_TRUE(made->is_default);
  EXPECT_EQ(Defaults(user), 1);

  ASSERT_TRUE(RunTask(io_, addresses_.Remove(user, first.id)).ok());
  auto listed = RunTask(io_, addresses_.List(user));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, third.id);  // the newest remaining
  EXPECT_TRUE(listed[0].is_default);
  EXPECT_EQ(Defaults(user), 1);
}

TEST_F(AddressesTest, AnotherUsersAddressIsNotFoundAndStaysAsItWas) {
  services::Principal owner = NewUser();
  services::Principal other = NewUser();
  SavedAddress saved = Add(owner);

  auto updated =
      RunTask(io_, addresses_.Update(other, saved.id,
                                     {.city = std::string("Rio de Janeiro"), .is_default = true}));
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);
  auto removed = RunTask(io_, addresses_.Remove(other, saved.id));
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().code, ErrorCode::kNotFound);

  auto listed = RunTask(io_, addresses_.List(owner));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].address.city, "São Paulo");
  EXPECT_EQ(listed[0].updated_at, saved.updated_at);
  EXPECT_EQ(Count(other), 0);
}

TEST_F(AddressesTest, AnEditThatFailsTheCheckChangesNothing) {
  services::Principal user = NewUser();
  SavedAddress saved = Add(user);
  auto updated = RunTask(io_, addresses_.Update(user, saved.id, {.city = std::string("Atlantis")}));
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.error().fields.at(0).field, "city");
  EXPECT_EQ(RunTask(io_, addresses_.List(user)).at(0).address.city, "São Paulo");
}

TEST_F(AddressesTest, ConcurrentAddsNeverExceedTwenty) {
  services::Principal user = NewUser();
  constexpr int kRacers = 26;
  std::vector<std::optional<Result<SavedAddress>>> results(kRacers);
  std::vector<Task<void>> tasks;
  for (int i = 0; i < kRacers; ++i) {
    auto add = [](services::AddressesService& addresses, services::Principal user,
                  std::optional<Result<SavedAddress>>& out) -> Task<void> {
      ShippingAddress address = SaoPaulo();
      out.emplace(co_await addresses.Add(user, std::move(address), true));
    };
    tasks.push_back(add(addresses_, user, results[i]));
  }
  RunConcurrently(io_, std::move(tasks));
  int added = 0, refused = 0;
  for (auto& result : results) {
    if (result->ok()) {
      ++added;
    } else {
      EXPECT_EQ(result->error().code, ErrorCode::kConflict);
      ++refused;
    }
  }
  EXPECT_EQ(added, domain::kMaxAddressesPerUser);
  EXPECT_EQ(refused, kRacers - domain::kMaxAddressesPerUser);
  EXPECT_EQ(Count(user), 20);
  EXPECT_EQ(Defaults(user), 1);
}

TEST_F(AddressesTest, TheDatabaseRefusesA21stAddressEvenWhenTheCountIsSkipped) {
  services::Principal user = NewUser();
  for (int i = 0; i < domain::kMaxAddressesPerUser; ++i) Add(user);
  SavedAddress one = RunTask(io_, addresses_.List(user)).at(0);
  auto added = RunTask(io_, repository_.Add(user.user.id, one, /*max=*/1000));
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Count(user), 20);
  // A slot freed is taken again.
  ASSERT_TRUE(RunTask(io_, addresses_.Remove(user, one.id)).ok());
  Add(user);
  EXPECT_EQ(Count(user), 20);
}

TEST_F(AddressesTest, GeoLookupsAreRateLimited) {
  services::Principal user = NewUser();
  limiter_.allow = false;
  auto check = RunTask(io_, addresses_.Validate(user, "127.0.0.1", SaoPaulo()));
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(check.error().retry_after, std::chrono::seconds(2));
  auto suggested = RunTask(io_, addresses_.Suggest(user, "127.0.0.1", "sao", std::string("BR")));
  ASSERT_FALSE(suggested.ok());
  EXPECT_EQ(suggested.error().code, ErrorCode::kRateLimited);
}

TEST_F(AddressesTest, AnOrderKeepsItsAddressAfterTheAddressIsEditedAndDeleted) {
  services::Principal buyer = BuyerWithCart();
  SavedAddress saved = Add(buyer);
  auto placed =
      RunTask(io_, checkout_.PlaceOrder(buyer, "key-" + RandomSuffix(), "body", saved.id));
  ASSERT_TRUE(placed.ok()) << placed.error().message;
  domain::OrderId order = placed->order.id;
  EXPECT_EQ(placed->order.shipping_address, saved.address);
  EXPECT_EQ(placed->order.shipping_address.city, "São Paulo");

  ShippingAddress rio{.recipient_name = "Someone Else",
                      .line1 = "Avenida Atlântica 1",
                      .city = "Rio de Janeiro",
                      .postal_code = "22021-001",
                      .country = "BR"};
  auto edited = RunTask(io_, addresses_.Update(buyer, saved.id,
                                               {.recipient_name = rio.recipient_name,
                                                .line1 = rio.line1,
                                                .city = rio.city,
                                                .postal_code = rio.postal_code}));
  ASSERT_TRUE(edited.ok()) << edited.error().message;
  EXPECT_EQ(edited->address.city, "Rio de Janeiro");
  EXPECT_EQ(RunTask(io_, orders_.Find(order))->shipping_address, saved.address);

  ASSERT_TRUE(RunTask(io_, addresses_.Remove(buyer, saved.id)).ok());
  EXPECT_EQ(RunTask(io_, orders_.Find(order))->shipping_address, saved.address);
}

TEST_F(AddressesTest, ARetryAfterTheAddressIsDeletedGetsTheSameOrder) {
  services::Principal buyer = BuyerWithCart();
  SavedAddress saved = Add(buyer);
  std::string key = "key-" + RandomSuffix();
  auto placed = RunTask(io_, checkout_.PlaceOrder(buyer, key, "body", saved.id));
  ASSERT_TRUE(placed.ok()) << placed.error().message;
  ASSERT_TRUE(RunTask(io_, addresses_.Remove(buyer, saved.id)).ok());

  auto retried = RunTask(io_, checkout_.PlaceOrder(buyer, key, "body", saved.id));
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_TRUE(retried->replayed);
  EXPECT_EQ(retried->order.id, placed->order.id);
  auto other_body = RunTask(io_, checkout_.PlaceOrder(buyer, key, "another body", saved.id));
  ASSERT_FALSE(other_body.ok());
  EXPECT_EQ(other_body.error().fields.at(0).field, "Idempotency-Key");
  auto fresh = RunTask(io_, checkout_.PlaceOrder(buyer, "key-" + RandomSuffix(), "body", saved.id));
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(fresh.error().fields.at(0).field, "address_id");
}

TEST_F(AddressesTest, CheckoutRefusesAnotherUsersAddress) {
  services::Principal buyer = BuyerWithCart();
  services::Principal other = NewUser();
  SavedAddress theirs = Add(other);
  auto placed =
      RunTask(io_, checkout_.PlaceOrder(buyer, "key-" + RandomSuffix(), "body", theirs.id));
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.error().code, ErrorCode::kValidationFailed);
  EXPECT_EQ(placed.error().fields.at(0).field, "address_id");
  EXPECT_EQ(Scalar("test.orders", "SELECT count(*) AS n FROM orders WHERE buyer_id = $1",
                   buyer.user.id.value),
            0);
}

}  // namespace
}  // namespace market
