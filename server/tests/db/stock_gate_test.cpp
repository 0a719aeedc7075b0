#include "storage/redis/stock_gate.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "db/db_support.hpp"
#include "storage/redis/client.hpp"

namespace market::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using services::GateOutcome;
using services::GateResult;
using services::StockLevel;
using services::StockWant;

constexpr std::string_view kSuite = "stock_gate";
constexpr std::chrono::seconds kHoldTtl = 60s;

constexpr ListingId kA{1};
constexpr ListingId kB{2};
constexpr ListingId kC{3};

Task<void> Sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// Every test writes under its own random key prefix, so tests and concurrent runs sharing the
// database never see each other's counters.
StockGateOptions TestOptions() {
  StockGateOptions options;
  options.key_prefix = UniqueRedisKey(kSuite, "stock") + ":";
  return options;
}

std::vector<StockWant> Wants(std::initializer_list<StockWant> wants) { return wants; }
std::vector<StockLevel> Levels(std::initializer_list<StockLevel> levels) { return levels; }

bool SameLevels(const std::vector<StockLevel>& got, const std::vector<StockLevel>& want) {
  if (got.size() != want.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i].listing != want[i].listing || got[i].available != want[i].available) return false;
  }
  return true;
}

// Members are public: the test bodies are capture-less coroutine lambdas taking the fixture.
class RedisStockGateTest : public ::testing::Test {
 public:
  void TearDown() override {
    RunTask(io_, [](Client& client, std::string prefix) -> Task<void> {
      std::string cursor = "0";
      do {
        std::vector<std::string> scan =
            Argv("SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000");
        Reply page = co_await client.Command(std::move(scan));
        if (page.type != Reply::Type::kArray || page.elements.size() != 2) co_return;
        cursor = page.elements[0].str;
        for (const auto& key : page.elements[1].elements) {
          std::vector<std::string> del = Argv("DEL", key.str);
          co_await client.Command(std::move(del));
        }
      } while (cursor != "0");
    }(client_, options_.key_prefix));
  }

  std::string CounterKey(ListingId listing) const {
    return options_.key_prefix + std::to_string(listing.value);
  }
  std::string HoldKey(std::string_view hold) const {
    return options_.key_prefix + "hold:" + std::string(hold);
  }

  Task<bool> Exists(std::string key) {
    std::vector<std::string> argv = Argv("EXISTS", std::move(key));
    Reply reply = co_await client_.Command(std::move(argv));
    co_return reply.integer == 1;
  }

  Task<long long> Pttl(std::string key) {
    std::vector<std::string> argv = Argv("PTTL", std::move(key));
    Reply reply = co_await client_.Command(std::move(argv));
    co_return reply.integer;
  }

  // The counters of `ids`, -1 for a missing one: one value to compare in an assertion.
  template <class... Ids>
  Task<std::vector<int>> Counters(Ids... ids) {
    const std::vector<ListingId> listings = {ids...};
    std::vector<int> values;
    for (ListingId listing : listings) {
      std::optional<int> value = co_await gate_.Peek(listing);
      values.push_back(value.value_or(-1));
    }
    co_return values;
  }

  asio::io_context io_;
  Client client_{io_.get_executor(), ParseRedisUrl(TestRedisUrl())};
  StockGateOptions options_ = TestOptions();
  RedisStockGate gate_{client_, options_};
};

TEST_F(RedisStockGateTest, TakesEveryLineOrNoneAcrossThreeListings) {
  RunTask(io_, [](RedisStockGateTest& t) -> Task<void> {
    std::vector<StockLevel> levels = Levels({{kA, 5}, {kB, 3}, {kC, 1}});
    co_await t.gate_.Seed(levels);

    std::vector<StockWant> too_many = Wants({{kA, 2}, {kB, 3}, {kC, 2}});
    GateResult refused = co_await t.gate_.Take("refused", too_many, kHoldTtl);
    EXPECT_EQ(refused.outcome, GateOutcome::kRefused);
    std::vector<int> counters = co_await t.Counters(kA, kB, kC);
    EXPECT_EQ(counters, (std::vector<int>{5, 3, 1}))
        << "a refused take must leave every counter alone";
    bool exists = co_await t.Exists(t.HoldKey("refused"));
    EXPECT_FALSE(exists) << "a refused take records no hold";

    std::vector<StockWant> exactly = Wants({{kA, 2}, {kB, 3}, {kC, 1}});
    GateResult taken = co_await t.gate_.Take("taken", exactly, kHoldTtl);
    EXPECT_EQ(taken.outcome, GateOutcome::kTaken);
    EXPECT_TRUE(taken.short_of.empty());
    EXPECT_TRUE(taken.missing.empty());
    counters = co_await t.Counters(kA, kB, kC);
    EXPECT_EQ(counters, (std::vector<int>{3, 0, 0}));

    std::vector<std::string> hgetall = Argv("HGETALL", t.HoldKey("taken"));
    Reply hold = co_await t.client_.Command(std::move(hgetall));
    EXPECT_EQ(hold.elements.size(), 6u) << "the hold records one field per listing";
    const long long hold_ttl = co_await t.Pttl(t.HoldKey("taken"));
    EXPECT_GT(hold_ttl, 0);
    EXPECT_LE(hold_ttl, std::chrono::milliseconds(kHoldTtl).count());
  }(*this));
}

TEST_F(RedisStockGateTest, RefusalNamesEveryShortListingWithItsCounter) {
  RunTask(io_, [](RedisStockGateTest& t) -> Task<void> {
    std::vector<StockLevel> levels = Levels({{kA, 1}, {kB, 0}, {kC, 10}});
    co_await t.gate_.Seed(levels);
    std::vector<StockWant> wants = Wants({{kC, 1}, {kB, 1}, {kA, 2}});
    GateResult refused = co_await t.gate_.Take("short", wants, kHoldTtl);
    EXPECT_EQ(refused.outcome, GateOutcome::kRefused);
    EXPECT_TRUE(SameLevels(refused.short_of, Levels({{kA, 1}, {kB, 0}})))
        << "short_of has " << refused.short_of.size() << " entries";
    EXPECT_TRUE(refused.missing.empty());
    std::vector<int> counters = co_await t.Counters(kA, kB, kC);
    EXPECT_EQ(counters, (std::vector<int>{1, 0, 10}));
  }(*this));
}

TEST_F(RedisStockGateTest, ReportsMissingCountersThenTakesOnceTheyAreSeeded) {
  RunTask(io_, [](RedisStockGateTest& t) -> Task<void> {
    std::vector<StockLevel> only_a = Levels({{kA, 4}});
    co_await t.gate_.Seed(only_a);
    std::vector<StockWant> wants = Wants({{kA, 1}, {kB, 1}, {kC, 1}});
    GateResult missing = co_await t.gate_.Take("checkout", wants, kHoldTtl);
    EXPECT_EQ(missing.outcome, GateOutcome::kMissing);
    EXPECT_EQ(missing.missing, (std::vector<ListingId>{kB, kC}));
    std::vector<int> counters = co_await t.Counters(kA, kB, kC);
    EXPECT_EQ(counters, (std::vector<int>{4, -1, -1}))
        << "a missing counter is unknown, never taken to 0 or below";
    bool exists = co_await t.Exists(t.HoldKey("checkout"));
    EXPECT_FALSE(exists);

    std::vector<StockLevel> rest = Levels({{kB, 2}, {kC, 1}});
    co_await t.gate_.Seed(rest);
    GateResult taken = co_await t.gate_.Take("checkout", wants, kHoldTtl);
    EXPECT_EQ(taken.outcome, GateOutcome::kTaken);
    counters = co_await t.Counters(kA, kB, kC);
    EXPECT_EQ(counters, (std::vector<int>{3, 1, 0}));
  }(*this));
}

TEST_F(RedisStockGateTest, MergesRepeatedListingsAndIgnoresQuantitiesBelowOne) {
  RunTask(io_, [](RedisStockGateTest& t) -> Task<void> {
    std::vector<StockLevel> levels = Levels({{kA, 3}});
    co_await t.gate_.Seed(levels);
    // kB has no counter: were its zero and negative lines not ignored, the take would be kMissing.
    std::vector<StockWant> wants = Wants({{kA, 1}, {kB, 0}, {kA, 2}, {kB, -4}});
    GateResult taken = co_await t.gate_.Take("merged", wants, kHoldTtl);
    EXPECT_EQ(taken.outcome, GateOutcome::kTaken);
    std::vector<int> counters = co_await t.Counters(kA, kB);
    EXPECT_EQ(counters, (std::vector<int>{0, -1}));

    std::vector<std::string> hget = Argv("HGET", t.HoldKey("merged"), t.CounterKey(kA));
    Reply held = co_await t.client_.Command(std::move(hget));
    EXPECT_EQ(held.str, "3");

    std::vector<StockWant> one_more = Wants({{kA, 1}, {kA, 1}});
    GateResult refused = co_await t.gate_.Take("again", one_more, kHoldTtl);
    EXPECT_EQ(refused.outcome, GateOutcome::kRefused);
    EXPECT_TRUE(SameLevels(refused.short_of, Levels({{kA, 0}})));
  }(*this));
}

TEST_F(RedisStockGateTest, ASecondTakeUnderTheSameHoldIsAlreadyHeldAndTakesNothing) {
  RunTask(io_, [](RedisStockGateTest& t) -> Task<void> {
    std::vector<StockLevel> levels = Levels({{kA, 5}});
    co_await t.gate_.Seed(levels);
    std::vector<StockWant> two = Wants({{kA, 2}});
    GateResult first = co_await t.gate_.Take("buyer:key", two, kHoldTtl);
    EXPECT_EQ(first.outcome, GateOutcome::kTaken);
    std::vector<StockWant> one = Wants({{kA, 1}});
    GateResult retry = co_await t.gate_.Take("buyer:key", one, kHoldTtl);
    EXPECT_EQ(retry.outcome, GateOutcome::kAlreadyHeld);
    std::optional<int> peeked = co_await t.gate_.Peek(kA);
    EXPECT_EQ(peeked, std::optional<int>(3));

    // A hold is a checkout attempt, not a counter: it is checked before any counter, even one
    // that is short or missing.
    std::vector<StockWant> impossible = Wants({{kA, 100}, {kB, 1}});
    GateResult held = co_await t.gate_.Take("buyer:key", impossible, kHoldTtl);
    EXPECT_EQ(held.outcome, GateOutcome::kAlreadyHeld);
  }(*this));
}

TEST_F(RedisStockGateTest, GiveBackReturnsWhatTheHoldTookExactlyOnce) {
  RunTask(io_, [](RedisStockGateTest& t) -> Task<void> {
    std::vector<StockLevel> levels = Levels({{kA, 5}, {kB, 5}});
    co_await t.gate_.Seed(levels);
    std::vector<StockWant> wants = Wants({{kA, 2}, {kB, 1}});
    GateResult taken = co_await t.gate_.Take("failed-checkout", wants, kHoldTtl);
    EXPECT_EQ(taken.outcome, GateOutcome::kTaken);
    std::vector<int> counters = co_await t.Counters(kA, kB);
    EXPECT_EQ(counters, (std::vector<int>{3, 4}));

    co_await t.gate_.GiveBack("failed-checkout");
    counters = co_await t.Counters(kA, kB);
    EXPECT_EQ(counters, (std::vector<int>{5, 5}));
    bool exists = co_await t.Exists(t.HoldKey("failed-checkout"));
    EXPECT_FALSE(exists);

    co_await t.gate_.GiveBack("failed-checkout");
    counters = co_await t.Counters(kA, kB);
    EXPECT_EQ(counters, (std::vector<int>{5, 5}))
        << "a second GiveBack of the same hold must give nothing";

    co_await t.gate_.GiveBack("never-taken");
    counters = co_await t.Counters(kA, kB);
    EXPECT_EQ(counters, (std::vector<int>{5, 5}));

    GateResult again = co_await t.gate_.Take("failed-checkout", wants, kHoldTtl);
    EXPECT_EQ(again.outcome, GateOutcome::kTaken) << "a given-back hold can be taken again";
  }(*this));
}

TEST_F(RedisStockGateTest, GiveBackAndReleaseNeverCreateACounter) {
  RunTask(io_, [](RedisStockGateTest& t) -> Task<void> {
    std::vector<StockLevel> levels = Levels({{kA, 5}, {kB, 5}});
    co_await t.gate_.Seed(levels);
    std::vector<StockWant> wants = Wants({{kA, 1}, {kB, 2}});
    GateResult taken = co_await t.gate_.Take("hold", wants, kHoldTtl);
    EXPECT_EQ(taken.outcome, GateOutcome::kTaken);

    co_await t.gate_.Invalidate(kB);
    std::optional<int> peeked = co_await t.gate_.Peek(kB);
    EXPECT_EQ(peeked, std::nullopt);
    co_await t.gate_.GiveBack("hold");
    peeked = co_await t.gate_.Peek(kA);
    EXPECT_EQ(peeked, std::optional<int>(5));
    bool exists = co_await t.Exists(t.CounterKey(kB));
    EXPECT_FALSE(exists)
        << "GiveBack must not turn a forgotten counter into one holding only the given-back stock";

    std::vector<StockWant> released = Wants({{kA, 2}, {kB, 3}, {kC, 1}});
    co_await t.gate_.Release(released);
    peeked = co_await t.gate_.Peek(kA);
    EXPECT_EQ(peeked, std::optional<int>(7));
    exists = co_await t.Exists(t.CounterKey(kB));
    EXPECT_FALSE(exists);
    exists = co_await t.Exists(t.CounterKey(kC));
    EXPECT_FALSE(exists);

    std::vector<StockWant> ignored = Wants({{kA, 0}, {kA, -3}});
    co_await t.gate_.Release(ignored);
    peeked = co_await t.gate_.Peek(kA);
    EXPECT_EQ(peeked, std::optional<int>(7));
  }(*this));
}

TEST_F(RedisStockGateTest, SeedLeavesAnExistingCounterAloneAndSetsTheTtlThatChangesKeep) {
  RunTask(io_, [](RedisStockGateTest& t) -> Task<void> {
    std::vector<StockLevel> first = Levels({{kA, 5}});
    co_await t.gate_.Seed(first);
    std::vector<StockLevel> second = Levels({{kA, 9}, {kB, -2}});
    co_await t.gate_.Seed(second);
    std::optional<int> peeked = co_await t.gate_.Peek(kA);
    EXPECT_EQ(peeked, std::optional<int>(5));
    peeked = co_await t.gate_.Peek(kB);
    EXPECT_EQ(peeked, std::optional<int>(0)) << "negative stock seeds 0";

    const long long ttl = std::chrono::milliseconds(t.options_.counter_ttl).count();
    const long long seeded = co_await t.Pttl(t.CounterKey(kA));
    EXPECT_GT(seeded, 0);
    EXPECT_LE(seeded, ttl);

    std::vector<StockWant> wants = Wants({{kA, 1}});
    GateResult taken = co_await t.gate_.Take("hold", wants, kHoldTtl);
    EXPECT_EQ(taken.outcome, GateOutcome::kTaken);
    co_await t.gate_.Release(wants);
    const long long after = co_await t.Pttl(t.CounterKey(kA));
    EXPECT_GT(after, 0) << "Take and Release must keep the counter's expiry";
    EXPECT_LE(after, seeded);
  }(*this));
}

TEST_F(RedisStockGateTest, ACounterThatIsNotAnIntegerIsReportedMissingAndReseeded) {
  RunTask(io_, [](RedisStockGateTest& t) -> Task<void> {
    std::vector<std::string> set = Argv("SET", t.CounterKey(kA), "garbage", "PX", "60000");
    co_await t.client_.Command(std::move(set));
    std::optional<int> peeked = co_await t.gate_.Peek(kA);
    EXPECT_EQ(peeked, std::nullopt);
    std::vector<StockWant> wants = Wants({{kA, 1}});
    GateResult missing = co_await t.gate_.Take("hold", wants, kHoldTtl);
    EXPECT_EQ(missing.outcome, GateOutcome::kMissing);
    std::vector<StockLevel> levels = Levels({{kA, 2}});
    co_await t.gate_.Seed(levels);
    GateResult taken = co_await t.gate_.Take("hold", wants, kHoldTtl);
    EXPECT_EQ(taken.outcome, GateOutcome::kTaken);
    peeked = co_await t.gate_.Peek(kA);
    EXPECT_EQ(peeked, std::optional<int>(1));
  }(*this));
}

struct RaceTally {
  std::atomic<int> taken{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
};

Task<void> TakeOne(RedisStockGate& gate, std::string hold, ListingId listing, RaceTally& tally) {
  std::vector<StockWant> wants = Wants({{listing, 1}});
  GateResult result = co_await gate.Take(hold, wants, kHoldTtl);
  switch (result.outcome) {
    case GateOutcome::kTaken:
      ++tally.taken;
      break;
    case GateOutcome::kRefused:
      ++tally.refused;
      break;
    default:
      ++tally.other;
      break;
  }
}

// `count` Takes of 1 in flight at once on one connection, each under its own hold.
Task<void> TakeConcurrently(RedisStockGate& gate, std::string hold_prefix, int count,
                            ListingId listing, RaceTally& tally) {
  auto executor = co_await asio::this_coro::executor;
  int finished = 0;
  asio::steady_timer all_done(executor, std::chrono::steady_clock::time_point::max());
  for (int i = 0; i < count; ++i) {
    asio::co_spawn(executor, TakeOne(gate, hold_prefix + std::to_string(i), listing, tally),
                   [&finished, &all_done, count](std::exception_ptr e) {
                     EXPECT_FALSE(e);
                     if (++finished == count) all_done.cancel();
                   });
  }
  while (finished < count) co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
}

constexpr int kStock = 20;
constexpr int kThreads = 4;
constexpr int kTakesPerThread = 50;

TEST_F(RedisStockGateTest, ConcurrentTakesFromSeveralConnectionsAdmitExactlyTheStock) {
  std::vector<StockLevel> levels = Levels({{kA, kStock}});
  RunTask(io_, gate_.Seed(levels));

  RaceTally tally;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &tally] {
      asio::io_context io;
      Client client(io.get_executor(), ParseRedisUrl(TestRedisUrl()));
      RedisStockGate gate(client, options_);
      RunTask(io, TakeConcurrently(gate, "race:" + std::to_string(t) + ":", kTakesPerThread, kA,
                                   tally));
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(tally.taken.load(), kStock);
  EXPECT_EQ(tally.refused.load(), kThreads * kTakesPerThread - kStock);
  EXPECT_EQ(tally.other.load(), 0);
  RunTask(io_, [](RedisStockGateTest& t) -> Task<void> {
    std::optional<int> peeked = co_await t.gate_.Peek(kA);
    EXPECT_EQ(peeked, std::optional<int>(0));
    // Every hold that took gives back exactly its one unit: the counter returns to the stock.
    for (int thread = 0; thread < kThreads; ++thread) {
      for (int i = 0; i < kTakesPerThread; ++i) {
        co_await t.gate_.GiveBack("race:" + std::to_string(thread) + ":" + std::to_string(i));
      }
    }
    peeked = co_await t.gate_.Peek(kA);
    EXPECT_EQ(peeked, std::optional<int>(kStock));
  }(*this));
}

// A loopback port with nothing listening: connecting is refused at once.
int ClosedPort() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

TEST(RedisStockGateUnreachable, TakeIsUnavailableAtOnceAndTheRestDoNothing) {
  asio::io_context io;
  ClientOptions client_options;
  client_options.port = ClosedPort();
  // Long enough that waiting out any timeout would show.
  client_options.connect_timeout = 30s;
  client_options.command_timeout = 30s;
  Client client(io.get_executor(), client_options);
  RedisStockGate gate(client, TestOptions());

  const auto started = std::chrono::steady_clock::now();
  RunTask(io, [](RedisStockGate& gate) -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      std::vector<StockWant> wants = Wants({{kA, 1}, {kB, 2}});
      GateResult result = co_await gate.Take("hold", wants, kHoldTtl);
      EXPECT_EQ(result.outcome, GateOutcome::kUnavailable);
      EXPECT_TRUE(result.short_of.empty());
      EXPECT_TRUE(result.missing.empty());
      std::vector<StockLevel> levels = Levels({{kA, 1}});
      co_await gate.Seed(levels);
      co_await gate.GiveBack("hold");
      co_await gate.Release(wants);
      co_await gate.Invalidate(kA);
      std::optional<int> peeked = co_await gate.Peek(kA);
      EXPECT_EQ(peeked, std::nullopt);
    }
  }(gate));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s)
      << "a refused connection must not wait out a timeout";
}

// A fake Redis that accepts connections and closes them at once, counting them.
Task<void> AcceptAndClose(asio::ip::tcp::acceptor& acceptor, std::atomic<int>& accepted) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    ++accepted;
    socket.close();
  }
}

TEST(RedisStockGateUnreachable, AfterAFailureTheBreakerSkipsRedisThenTriesAgain) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::atomic<int> accepted{0};
  asio::co_spawn(io, AcceptAndClose(acceptor, accepted), asio::detached);
  ClientOptions client_options;
  client_options.port = acceptor.local_endpoint().port();
  Client client(io.get_executor(), client_options);

  StockGateOptions open_long = TestOptions();
  open_long.breaker = 1h;
  RedisStockGate gate(client, open_long);
  RunTask(io, [](RedisStockGate& gate, std::atomic<int>& accepted) -> Task<void> {
    std::vector<StockWant> wants = Wants({{kA, 1}});
    GateResult first = co_await gate.Take("hold", wants, kHoldTtl);
    EXPECT_EQ(first.outcome, GateOutcome::kUnavailable);
    const int after_first = accepted.load();
    EXPECT_GE(after_first, 1);
    for (int i = 0; i < 100; ++i) {
      GateResult skipped = co_await gate.Take("hold", wants, kHoldTtl);
      EXPECT_EQ(skipped.outcome, GateOutcome::kUnavailable);
      std::vector<StockLevel> levels = Levels({{kA, 1}});
      co_await gate.Seed(levels);
      co_await gate.GiveBack("hold");
      co_await gate.Release(wants);
      co_await gate.Invalidate(kA);
      std::optional<int> peeked = co_await gate.Peek(kA);
      EXPECT_EQ(peeked, std::nullopt);
    }
    EXPECT_EQ(accepted.load(), after_first) << "an open breaker must not even connect";
  }(gate, accepted));

  StockGateOptions open_briefly = TestOptions();
  open_briefly.breaker = 50ms;
  RedisStockGate retrying(client, open_briefly);
  RunTask(io, [](RedisStockGate& gate, std::atomic<int>& accepted) -> Task<void> {
    std::vector<StockWant> wants = Wants({{kA, 1}});
    GateResult first = co_await gate.Take("hold", wants, kHoldTtl);
    EXPECT_EQ(first.outcome, GateOutcome::kUnavailable);
    const int before = accepted.load();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (accepted.load() == before && std::chrono::steady_clock::now() < deadline) {
      co_await Sleep(20ms);
      GateResult again = co_await gate.Take("hold", wants, kHoldTtl);
      EXPECT_EQ(again.outcome, GateOutcome::kUnavailable);
    }
    EXPECT_GT(accepted.load(), before) << "once the breaker closes, Redis is asked again";
  }(retrying, accepted));
  acceptor.close();
}

}  // namespace
}  // namespace market::redis
