// The catalogue against the real PostgreSQL: search ranking, filters, sorts, keyset pagination
// under concurrent inserts, the one-query list page, and the races on edits and images.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <set>

#include "db/db_support.hpp"
#include "db/users_support.hpp"
#include "services/listings/listings_service.hpp"
#include "storage/pg/listings_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/pool.hpp"
#include "storage/pg/users_repository.hpp"

namespace market {
namespace {

using domain::BrowseQuery;
using domain::ListingSort;
using services::ListingPageResult;

// Image decoding is tested on its own; here any bytes "decode" so the races are about storage.
class AcceptingProcessor final : public services::ImageProcessor {
 public:
  Result<services::ProcessedImage> Process(std::string_view bytes) const override {
    return services::ProcessedImage{.format = services::ImageFormat::kPng,
                                    .width = 10,
                                    .height = 10,
                                    .original = std::string(bytes),
                                    .small = std::string(bytes) + "s",
                                    .large = std::string(bytes) + "l"};
  }
};

class MemoryMedia final : public services::MediaStore {
 public:
  std::string Put(std::string_view bytes, std::string_view extension) override {
    return "00/00/" + std::to_string(std::hash<std::string_view>{}(bytes)) + "." +
           std::string(extension);
  }
};

// Remembers which counters the service asked to forget.
class RecordingGate final : public services::StockGate {
 public:
  Task<services::GateResult> Take(std::string_view, const std::vector<services::StockWant>&,
                                  std::chrono::seconds) override {
    co_return services::GateResult{};
  }
  Task<void> Seed(const std::vector<services::StockLevel>&) override { co_return; }
  Task<void> GiveBack(std::string_view) override { co_return; }
  Task<void> Release(const std::vector<services::StockWant>&) override { co_return; }
  Task<void> Invalidate(ListingId listing) override {
    invalidated.push_back(listing);
    co_return;
  }
  Task<std::optional<int>> Peek(ListingId) override { co_return std::nullopt; }

  std::vector<ListingId> invalidated;
};

class ListingsTest : public ::testing::Test {
 protected:
  ListingsTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 6}),
        users_(pool_),
        repository_(pool_),
        media_pool_(2),
        cursors_(std::string(40, 'c'), "listing cursor"),
        service_(repository_, users_, processor_, media_, media_pool_, cursors_, gate_, {}) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
  }

  services::Principal NewSeller() { return InsertTestUser(io_, pool_, "seller"); }

  domain::Listing Create(const services::Principal& seller, std::string title,
                         std::int64_t price = 1000, std::string description = "",
                         std::string category = "books", std::int64_t quantity = 1,
                         std::string condition = "good") {
    auto listing = RunTask(
        io_, service_.Create(seller, domain::ListingDraft{.title = std::move(title),
                                                          .description = std::move(description),
                                                          .price_cents = price,
                                                          .quantity = quantity,
                                                          .category = std::move(category),
                                                          .condition = std::move(condition)}));
    EXPECT_TRUE(listing.ok()) << (listing.ok() ? "" : listing.error().message);
    return std::move(listing).value();
  }

  ListingPageResult Browse(BrowseQuery query, std::optional<std::string> cursor = {}) {
    auto page = RunTask(io_, service_.Browse(std::move(query), std::move(cursor)));
    EXPECT_TRUE(page.ok()) << (page.ok() ? "" : page.error().message);
    return std::move(page).value();
  }

  std::vector<std::int64_t> Ids(const ListingPageResult& page) {
    std::vector<std::int64_t> ids;
    for (const auto& item : page.items) ids.push_back(item.id.value);
    return ids;
  }

  BrowseQuery BySeller(const services::Principal& seller) {
    return BrowseQuery{.seller = seller.user.username};
  }

  boost::asio::io_context io_;
  pg::Pool pool_;
  pg::PgUsersRepository users_;
  pg::PgListingsRepository repository_;
  AcceptingProcessor processor_;
  MemoryMedia media_;
  boost::asio::thread_pool media_pool_;
  auth::Signer cursors_;
  RecordingGate gate_;
  services::ListingsService service_;
};

TEST_F(ListingsTest, SearchRanksATitleMatchAboveADescriptionMatch) {
  auto seller = NewSeller();
  std::string word = "zorblax" + RandomSuffix().substr(0, 4);
  auto in_description = Create(seller, "Plain wooden chair", 1000, "Comes with a " + word);
  auto in_title = Create(seller, "The " + word + " chair", 1000, "Sturdy");
  Create(seller, "Unrelated table");
  // Within one seller: the typo tolerance would also match the similar words of earlier runs.
  auto page = Browse(
      BrowseQuery{.q = word, .seller = seller.user.username, .sort = ListingSort::kRelevance});
  EXPECT_EQ(Ids(page), (std::vector<std::int64_t>{in_title.id.value, in_description.id.value}));
}

TEST_F(ListingsTest, SearchForgivesATypoInTheTitle) {
  auto seller = NewSeller();
  std::string word = "quillfeather" + RandomSuffix().substr(0, 3);
  auto listing = Create(seller, "Antique " + word + " pen");
  std::string typo = word;
  std::swap(typo[2], typo[3]);
  auto page = Browse(
      BrowseQuery{.q = typo, .seller = seller.user.username, .sort = ListingSort::kRelevance});
  EXPECT_EQ(Ids(page), (std::vector<std::int64_t>{listing.id.value}));
}

TEST_F(ListingsTest, ATypoSearchPagesThroughEveryLooseMatchOnce) {
  auto seller = NewSeller();
  std::string word = "marmalade" + RandomSuffix().substr(0, 3);
  std::set<std::int64_t> created;
  for (int i = 0; i < 5; ++i) created.insert(Create(seller, "Jar of " + word).id.value);
  std::string typo = word;
  std::swap(typo[1], typo[2]);
  BrowseQuery query{
      .q = typo, .seller = seller.user.username, .sort = ListingSort::kRelevance, .limit = 2};
  std::vector<std::int64_t> seen;
  std::optional<std::string> cursor;
  do {
    auto page = Browse(query, cursor);
    for (auto id : Ids(page)) seen.push_back(id);
    cursor = page.next_cursor;
  } while (cursor && seen.size() < 20);
  EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()), created);
  EXPECT_EQ(seen.size(), created.size());
}

TEST_F(ListingsTest, EachFilterNarrowsTheResults) {
  auto seller = NewSeller();
  auto cheap_book = Create(seller, "Cheap book", 500, "", "books", 1, "fair");
  auto dear_book = Create(seller, "Dear book", 9000, "", "books", 1, "new");
  auto sold_out = Create(seller, "Sold out book", 3000, "", "books", 0, "good");
  auto lamp = Create(seller, "A lamp", 3000, "", "home-garden", 3, "good");

  auto ids = [&](BrowseQuery query) {
    query.seller = seller.user.username;
    auto result = Ids(Browse(std::move(query)));
    return std::set<std::int64_t>(result.begin(), result.end());
  };
  using Set = std::set<std::int64_t>;
  EXPECT_EQ(ids({}),
            (Set{cheap_book.id.value, dear_book.id.value, sold_out.id.value, lamp.id.value}));
  EXPECT_EQ(ids({.category = "home-garden"}), (Set{lamp.id.value}));
  EXPECT_EQ(ids({.condition = domain::Condition::kFair}), (Set{cheap_book.id.value}));
  EXPECT_EQ(ids({.min_price = 3000}), (Set{dear_book.id.value, sold_out.id.value, lamp.id.value}));
  EXPECT_EQ(ids({.max_price = 3000}), (Set{cheap_book.id.value, sold_out.id.value, lamp.id.value}));
  EXPECT_EQ(ids({.min_price = 1000, .max_price = 5000}), (Set{sold_out.id.value, lamp.id.value}));
  EXPECT_EQ(ids({.in_stock = true}), (Set{cheap_book.id.value, dear_book.id.value, lamp.id.value}));
  // Another seller's listings never leak into a seller filter.
  auto other = NewSeller();
  Create(other, "Other book");
  EXPECT_EQ(ids({.category = "books", .in_stock = true}),
            (Set{cheap_book.id.value, dear_book.id.value}));
}

TEST_F(ListingsTest, InactiveAndDeletedListingsAreNotBrowsable) {
  auto seller = NewSeller();
  auto shown = Create(seller, "Shown");
  auto hidden = Create(seller, "Hidden");
  auto gone = Create(seller, "Gone");
  ASSERT_TRUE(RunTask(io_, service_.SetActive(seller, hidden.id, false)).ok());
  ASSERT_TRUE(RunTask(io_, service_.Delete(seller, gone.id)).ok());
  EXPECT_EQ(Ids(Browse(BySeller(seller))), (std::vector<std::int64_t>{shown.id.value}));
  EXPECT_FALSE(RunTask(io_, service_.Get(hidden.id, std::nullopt)).ok());
  EXPECT_TRUE(RunTask(io_, service_.Get(hidden.id, seller)).ok());
  EXPECT_FALSE(RunTask(io_, service_.Get(gone.id, seller)).ok());
}

TEST_F(ListingsTest, ASellersOwnListShowsInactiveButNeverDeletedOrOthersListings) {
  auto seller = NewSeller();
  auto other = NewSeller();
  auto shown = Create(seller, "Own shown", 1000, "", "books", 4);
  auto hidden = Create(seller, "Own hidden");
  auto gone = Create(seller, "Own gone");
  auto others_hidden = Create(other, "Not mine");
  Create(other, "Not mine either");
  ASSERT_TRUE(RunTask(io_, service_.SetActive(seller, hidden.id, false)).ok());
  ASSERT_TRUE(RunTask(io_, service_.SetActive(other, others_hidden.id, false)).ok());
  ASSERT_TRUE(RunTask(io_, service_.Delete(seller, gone.id)).ok());
  auto mine = [&](domain::StatusFilter status) {
    // A seller named in the query is the caller, whoever it names.
    BrowseQuery query{.seller = other.user.username, .status = status};
    auto page = RunTask(io_, service_.Mine(seller, query, std::nullopt));
    EXPECT_TRUE(page.ok());
    return std::move(page).value();
  };
  using IdList = std::vector<std::int64_t>;
  EXPECT_EQ(Ids(mine(domain::StatusFilter::kAll)), (IdList{hidden.id.value, shown.id.value}));
  EXPECT_EQ(Ids(mine(domain::StatusFilter::kActive)), (IdList{shown.id.value}));
  auto inactive = mine(domain::StatusFilter::kInactive);
  EXPECT_EQ(Ids(inactive), (IdList{hidden.id.value}));
  EXPECT_EQ(inactive.items.at(0).status, domain::ListingStatus::kInactive);
  auto active = mine(domain::StatusFilter::kActive);
  EXPECT_EQ(active.items.at(0).status, domain::ListingStatus::kActive);
  EXPECT_EQ(active.items.at(0).quantity, 4);
  EXPECT_EQ(active.items.at(0).available, 4);
}

TEST_F(ListingsTest, ASellersOwnListPagesThroughActiveAndInactiveOnce) {
  auto seller = NewSeller();
  std::set<std::int64_t> created;
  for (int i = 0; i < 7; ++i) {
    auto listing = Create(seller, "Paged own", 100 * (i % 3 + 1));
    if (i % 2 == 0) ASSERT_TRUE(RunTask(io_, service_.SetActive(seller, listing.id, false)).ok());
    created.insert(listing.id.value);
  }
  for (ListingSort sort : {ListingSort::kNewest, ListingSort::kPriceAsc}) {
    BrowseQuery query{.status = domain::StatusFilter::kAll, .sort = sort, .limit = 2};
    std::vector<std::int64_t> seen;
    std::optional<std::string> cursor;
    do {
      auto page = RunTask(io_, service_.Mine(seller, query, cursor));
      ASSERT_TRUE(page.ok());
      for (auto id : Ids(*page)) seen.push_back(id);
      cursor = page->next_cursor;
    } while (cursor && seen.size() < 20);
    EXPECT_EQ(seen.size(), created.size());
    EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()), created);
  }
}

TEST_F(ListingsTest, OthersGetForbiddenOnActiveAndNotFoundOnInactiveListings) {
  auto seller = NewSeller();
  auto other = NewSeller();
  auto listing = Create(seller, "Guarded");
  auto edit = RunTask(io_, service_.Update(other, listing.id, {.title = "Mine now"}, {}));
  ASSERT_FALSE(edit.ok());
  EXPECT_EQ(edit.error().code, ErrorCode::kForbidden);
  ASSERT_TRUE(RunTask(io_, service_.SetActive(seller, listing.id, false)).ok());
  auto hidden = RunTask(io_, service_.SetActive(other, listing.id, true));
  ASSERT_FALSE(hidden.ok());
  EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(RunTask(io_, service_.Get(listing.id, seller))->title, "Guarded");
}

TEST_F(ListingsTest, ChangingTheQuantityMakesTheStockGateForgetItsCounter) {
  auto seller = NewSeller();
  auto listing = Create(seller, "Counted");
  ASSERT_TRUE(RunTask(io_, service_.Update(seller, listing.id, {.title = "Renamed"}, {})).ok());
  EXPECT_TRUE(gate_.invalidated.empty()) << "a title change leaves the counter alone";
  ASSERT_TRUE(RunTask(io_, service_.Update(seller, listing.id, {.quantity = 7}, {})).ok());
  EXPECT_EQ(gate_.invalidated, std::vector<ListingId>{listing.id});
}

TEST_F(ListingsTest, SortsOrderTheResults) {
  auto seller = NewSeller();
  for (std::int64_t price : {700, 100, 500, 100, 900}) Create(seller, "Item", price);
  auto prices = [&](ListingSort sort) {
    BrowseQuery query = BySeller(seller);
    query.sort = sort;
    std::vector<std::int64_t> out;
    for (const auto& item : Browse(query).items) out.push_back(item.price_cents);
    return out;
  };
  EXPECT_EQ(prices(ListingSort::kPriceAsc), (std::vector<std::int64_t>{100, 100, 500, 700, 900}));
  EXPECT_EQ(prices(ListingSort::kPriceDesc), (std::vector<std::int64_t>{900, 700, 500, 100, 100}));
  auto newest = Ids(Browse(BySeller(seller)));
  EXPECT_TRUE(std::is_sorted(newest.rbegin(), newest.rend()));
}

TEST_F(ListingsTest, CursorPagesSeeEveryListingOnceWhileOthersAreInserted) {
  for (ListingSort sort : {ListingSort::kNewest, ListingSort::kPriceAsc, ListingSort::kPriceDesc,
                           ListingSort::kRelevance}) {
    auto seller = NewSeller();
    std::string word = "pagetest" + RandomSuffix().substr(0, 5);
    std::set<std::int64_t> before;
    for (int i = 0; i < 9; ++i) {
      // Equal prices and equal ranks in pairs: the id breaks the ties.
      before.insert(Create(seller, "Thing " + word, 100 * (i / 2 + 1)).id.value);
    }
    BrowseQuery query = BySeller(seller);
    query.sort = sort;
    query.limit = 2;
    if (sort == ListingSort::kRelevance) query.q = word;
    std::vector<std::int64_t> seen;
    std::optional<std::string> cursor;
    int pages = 0;
    do {
      auto page = Browse(query, cursor);
      for (auto id : Ids(page)) seen.push_back(id);
      cursor = page.next_cursor;
      // New listings land between page requests, at every position of every sort.
      Create(seller, "Late " + word, 50 + 100 * (pages % 6));
      ++pages;
      ASSERT_LT(pages, 50);
    } while (cursor);
    std::set<std::int64_t> unique(seen.begin(), seen.end());
    EXPECT_EQ(unique.size(), seen.size()) << "a listing was served twice";
    for (auto id : before) EXPECT_TRUE(unique.count(id)) << "listing " << id << " was skipped";
  }
}

TEST_F(ListingsTest, AListPageCostsOneQueryWhateverItsSize) {
  auto seller = NewSeller();
  for (int i = 0; i < 30; ++i) {
    auto listing = Create(seller, "Counted item");
    auto image = std::string("image-") + std::to_string(i);
    ASSERT_TRUE(RunTask(io_, service_.AddImage(seller, listing.id, image)).ok());
  }
  for (int limit : {1, 10, 30}) {
    BrowseQuery query = BySeller(seller);
    query.limit = limit;
    auto before = pool_.statements_executed();
    auto page = Browse(query);
    EXPECT_EQ(pool_.statements_executed() - before, 1u) << "limit " << limit;
    ASSERT_EQ(page.items.size(), static_cast<std::size_t>(limit));
    for (const auto& item : page.items) EXPECT_TRUE(item.main_image.has_value());
  }
}

TEST_F(ListingsTest, ATamperedOrForeignCursorIsRefused) {
  auto seller = NewSeller();
  for (int i = 0; i < 3; ++i) Create(seller, "Cursor item");
  BrowseQuery query = BySeller(seller);
  query.limit = 1;
  auto page = Browse(query);
  ASSERT_TRUE(page.next_cursor);
  std::string tampered = *page.next_cursor;
  tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
  auto refused = RunTask(io_, service_.Browse(query, tampered));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBadRequest);
  query.sort = ListingSort::kPriceAsc;
  auto other_sort = RunTask(io_, service_.Browse(query, page.next_cursor));
  ASSERT_FALSE(other_sort.ok());
  EXPECT_EQ(other_sort.error().code, ErrorCode::kBadRequest);
}

TEST_F(ListingsTest, OfConcurrentEditsWithOneVersionExactlyOneLands) {
  auto seller = NewSeller();
  auto listing = Create(seller, "Contested");
  std::vector<std::optional<Result<domain::Listing>>> results(4);
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto edit = [](services::ListingsService& service, services::Principal seller, ListingId id,
                   std::string title, int version,
                   std::optional<Result<domain::Listing>>& out) -> Task<void> {
      domain::ListingPatch patch{.title = std::move(title)};  // not braced inside co_await
      out.emplace(co_await service.Update(seller, id, std::move(patch), version));
    };
    boost::asio::co_spawn(io_,
                          edit(service_, seller, listing.id, "Title " + std::to_string(i),
                               listing.version, results[i]),
                          boost::asio::detached);
  }
  io_.restart();
  io_.run();
  int landed = 0;
  for (auto& result : results) {
    ASSERT_TRUE(result.has_value());
    if (result->ok()) {
      ++landed;
    } else {
      EXPECT_EQ(result->error().code, ErrorCode::kPreconditionFailed);
    }
  }
  EXPECT_EQ(landed, 1);
  auto stored = RunTask(io_, service_.Get(listing.id, seller));
  EXPECT_EQ(stored->version, listing.version + 1);
}

TEST_F(ListingsTest, ConcurrentUploadsNeverExceedTenImagesAndKeepOneMain) {
  auto seller = NewSeller();
  auto listing = Create(seller, "Many pictures");
  std::vector<std::optional<Result<domain::Listing>>> results(14);
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto upload = [](services::ListingsService& service, services::Principal seller, ListingId id,
                     std::string bytes, std::optional<Result<domain::Listing>>& out) -> Task<void> {
      out.emplace(co_await service.AddImage(seller, id, std::move(bytes)));
    };
    boost::asio::co_spawn(
        io_, upload(service_, seller, listing.id, "img" + std::to_string(i), results[i]),
        boost::asio::detached);
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
  EXPECT_EQ(added, 10);
  auto stored = RunTask(io_, service_.Get(listing.id, seller));
  ASSERT_EQ(stored->images.size(), 10u);
  EXPECT_EQ(std::count_if(stored->images.begin(), stored->images.end(),
                          [](const auto& image) { return image.is_main; }),
            1);
}

TEST_F(ListingsTest, DeletingTheMainImagePromotesTheFirstRemaining) {
  auto seller = NewSeller();
  auto listing = Create(seller, "Pictures");
  for (const char* bytes : {"a", "b", "c"})
    ASSERT_TRUE(RunTask(io_, service_.AddImage(seller, listing.id, bytes)).ok());
  auto stored = RunTask(io_, service_.Get(listing.id, seller)).value();
  ASSERT_TRUE(stored.images[0].is_main);
  auto third = stored.images[2].id;
  ASSERT_TRUE(RunTask(io_, service_.SetMainImage(seller, listing.id, third)).ok());
  auto after = RunTask(io_, service_.DeleteImage(seller, listing.id, third)).value();
  ASSERT_EQ(after.images.size(), 2u);
  EXPECT_TRUE(after.images[0].is_main);
  EXPECT_FALSE(after.images[1].is_main);
  for (const auto& image : after.images)
    ASSERT_TRUE(RunTask(io_, service_.DeleteImage(seller, listing.id, image.id)).ok());
  EXPECT_TRUE(RunTask(io_, service_.Get(listing.id, seller))->images.empty());
}

}  // namespace
}  // namespace market
