#include "app/seed_demo.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <random>

#include "app/app.hpp"
#include "clients/media/demo_images.hpp"

namespace market::app {
namespace {

constexpr int kListings = 300;
constexpr int kDistinctImages = 36;
constexpr const char* kSellers[] = {"alice", "bruno", "chiara", "devi", "emeka"};
constexpr const char* kBuyers[] = {"fatima", "gustav", "hana"};

constexpr const char* kAdjectives[] = {"Vintage", "Handmade", "Barely used", "Classic", "Compact",
                                       "Sturdy",  "Retro",    "Elegant",     "Rare",    "Solid",
                                       "Bright",  "Cosy",     "Portable",    "Antique", "Modern"};
constexpr const char* kThings[] = {"lamp",   "camera", "bicycle", "jacket",   "teapot",  "guitar",
                                   "desk",   "novel",  "watch",   "backpack", "speaker", "vase",
                                   "puzzle", "kettle", "tent",    "mirror",   "boots",   "radio"};
constexpr const char* kDetails[] = {"Kept in a smoke-free home and well looked after.",
                                    "Small signs of use, works perfectly.",
                                    "Comes with the original box and manual.",
                                    "Collected from a flea market; cleaned and checked.",
                                    "Selling because I am moving; must go this month.",
                                    "A great gift. Ships within two days, carefully packed."};

Task<std::optional<UserId>> EnsureUser(pg::Pool& pool, pg::PgUsersRepository& users,
                                       const std::string& name, const std::string& hash) {
  auto existing = co_await users.FindCredentials(name);
  if (existing) co_return std::nullopt;
  auto tx = co_await pool.Begin();
  services::NewUser user{
      .username = name,
      .email = name + "@demo.marketplace.test",
      .display_name = std::string(1, char(std::toupper(name[0]))) + name.substr(1),
      .password_hash = hash};
  auto inserted = co_await users.Insert(*tx, user);
  if (!inserted.ok()) throw std::runtime_error("seed-demo: " + inserted.error().message);
  co_await tx->Commit();
  co_return inserted->id;
}

Task<int> Seed(const Config& config, Shared& shared, pg::Pool& pool) {
  pg::PgUsersRepository users(pool);
  pg::PgListingsRepository listings(pool);
  if (co_await users.FindCredentials(kSellers[0])) {
    spdlog::info("seed-demo: demo data already present");
    co_return 0;
  }
  std::string hash = shared.hasher.Hash(kDemoPassword);
  std::vector<services::Principal> sellers;
  for (const char* name : kSellers) {
    auto id = co_await EnsureUser(pool, users, name, hash);
    if (id) {
      auto credentials = co_await users.FindCredentials(name);
      sellers.push_back(services::Principal{.user = credentials->user});
    }
  }
  for (const char* name : kBuyers) co_await EnsureUser(pool, users, name, hash);

  std::vector<services::NewImage> images;
  for (int i = 0; i < kDistinctImages; ++i) {
    std::string jpeg = clients::DrawDemoImage(static_cast<std::uint32_t>(i * 7919 + 17));
    auto processed = shared.images.Process(jpeg);
    if (!processed.ok()) throw std::runtime_error("seed-demo: drawn image refused");
    images.push_back(
        services::NewImage{.format = "jpeg",
                           .width = processed->width,
                           .height = processed->height,
                           .bytes = static_cast<int>(processed->original.size()),
                           .original_key = shared.media.Put(processed->original, "jpg"),
                           .small_key = shared.media.Put(processed->small, "webp"),
                           .large_key = shared.media.Put(processed->large, "webp")});
  }

  std::mt19937 random(20261129);
  const auto& categories = domain::Categories();
  auto pick = [&random](auto& array) { return array[random() % std::size(array)]; };
  for (int i = 0; i < kListings && !sellers.empty(); ++i) {
    const services::Principal& seller = sellers[i % sellers.size()];
    domain::ListingDraft draft{
        .title = std::string(pick(kAdjectives)) + " " + pick(kThings),
        .description = std::string(pick(kDetails)) + " " + pick(kDetails),
        .price_cents = 500 + static_cast<std::int64_t>(random() % 200) * 250,
        .currency = config.currency,
        .quantity = static_cast<std::int64_t>(random() % 8),
        .category = std::string(categories[i % categories.size()].slug),
        .condition =
            std::string(domain::ConditionName(static_cast<domain::Condition>(random() % 4)))};
    auto listing = co_await listings.Insert(seller.user.id, draft);
    int pictures = 1 + static_cast<int>(random() % 3);
    for (int p = 0; p < pictures; ++p) {
      auto added = co_await listings.AddImage(listing.id, images[random() % images.size()],
                                              domain::kMaxImagesPerListing);
      if (!added.ok()) throw std::runtime_error("seed-demo: " + added.error().message);
    }
  }
  spdlog::info("seed-demo: {} sellers, {} buyers and {} listings; password \"{}\"",
               std::size(kSellers), std::size(kBuyers), kListings, kDemoPassword);
  co_return 0;
}

}  // namespace

int SeedDemo(const Config& config) {
  Shared shared(config);
  boost::asio::io_context io;
  pg::Pool pool(io.get_executor(), pg::PoolOptions{.conninfo = config.database_url, .max_size = 2});
  std::exception_ptr failure;
  int status = 1;
  boost::asio::co_spawn(io, Seed(config, shared, pool), [&](std::exception_ptr e, int result) {
    failure = e;
    status = result;
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return status;
}

}  // namespace market::app
