#include "storage/redis/rate_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
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
using services::RateDecision;
using services::RateRule;

constexpr std::string_view kSuite = "rate_limiter";

Task<void> Sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

class RedisRateLimiterTest : public ::testing::Test {
 protected:
  Task<void> Forget(const std::string& key) { co_await client_.Command(Argv("DEL", "rl:" + key)); }

  asio::io_context io_;
  Client client_{io_.get_executor(), ParseRedisUrl(TestRedisUrl())};
  RedisRateLimiter limiter_{client_};
};

TEST_F(RedisRateLimiterTest, AllowsTheBurstThenDeniesWithARetryAfterOfAtMostOneInterval) {
  const std::string key = UniqueRedisKey(kSuite, "burst");
  const RateRule rule{.burst = 5, .interval = 1000ms};
  RunTask(io_, [&]() -> Task<void> {
    for (int i = 0; i < rule.burst; ++i) {
      RateDecision decision = co_await limiter_.Take(key, rule);
      EXPECT_TRUE(decision.allowed) << "request " << i + 1 << " of the burst";
    }
    RateDecision denied = co_await limiter_.Take(key, rule);
    EXPECT_FALSE(denied.allowed);
    EXPECT_GT(denied.retry_after, 0ms);
    EXPECT_LE(denied.retry_after, rule.interval);

    RateDecision still_denied = co_await limiter_.Take(key, rule);
    EXPECT_FALSE(still_denied.allowed) << "a denied request must not refill the bucket";
    EXPECT_LE(still_denied.retry_after, denied.retry_after);
    co_await Forget(key);
  }());
}

TEST_F(RedisRateLimiterTest, AllowsAgainOnceRetryAfterHasPassed) {
  const std::string key = UniqueRedisKey(kSuite, "refill");
  const RateRule rule{.burst = 2, .interval = 300ms};
  RunTask(io_, [&]() -> Task<void> {
    co_await limiter_.Take(key, rule);
    co_await limiter_.Take(key, rule);
    RateDecision denied = co_await limiter_.Take(key, rule);
    EXPECT_FALSE(denied.allowed);
    if (denied.allowed) co_return;

    co_await Sleep(denied.retry_after);
    // Server and test clocks may disagree by a tick: poll briefly instead of trusting one call.
    const auto deadline = std::chrono::steady_clock::now() + rule.interval;
    RateDecision again = co_await limiter_.Take(key, rule);
    while (!again.allowed && std::chrono::steady_clock::now() < deadline) {
      co_await Sleep(std::min<std::chrono::milliseconds>(again.retry_after, 10ms));
      again = co_await limiter_.Take(key, rule);
    }
    EXPECT_TRUE(again.allowed);
    RateDecision next = co_await limiter_.Take(key, rule);
    EXPECT_FALSE(next.allowed) << "one interval refills one token, not the whole burst";
    co_await Forget(key);
  }());
}

TEST_F(RedisRateLimiterTest, ConcurrentTakesOnOneKeyAdmitExactlyTheBurst) {
  const std::string key = UniqueRedisKey(kSuite, "race");
  const RateRule rule{.burst = 50, .interval = 60000ms};
  constexpr int kTakes = 200;
  RunTask(io_, [&]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    int allowed = 0;
    int denied = 0;
    int finished = 0;
    asio::steady_timer all_done(executor, std::chrono::steady_clock::time_point::max());
    for (int i = 0; i < kTakes; ++i) {
      auto take = [&]() -> Task<void> {
        RateDecision decision = co_await limiter_.Take(key, rule);
        ++(decision.allowed ? allowed : denied);
      };
      asio::co_spawn(executor, take, [&](std::exception_ptr e) {
        EXPECT_FALSE(e);
        if (++finished == kTakes) all_done.cancel();
      });
    }
    while (finished < kTakes) co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(allowed, rule.burst);
    EXPECT_EQ(denied, kTakes - rule.burst);

    Reply ttl = co_await client_.Command(Argv("PTTL", "rl:" + key));
    EXPECT_GT(ttl.integer, 0) << "the bucket key must expire";
    EXPECT_LE(ttl.integer, rule.burst * rule.interval.count());
    co_await Forget(key);
  }());
}

TEST_F(RedisRateLimiterTest, KeysHaveIndependentBuckets) {
  const std::string first = UniqueRedisKey(kSuite, "first");
  const std::string second = UniqueRedisKey(kSuite, "second");
  const RateRule rule{.burst = 1, .interval = 60000ms};
  RunTask(io_, [&]() -> Task<void> {
    RateDecision first_taken = co_await limiter_.Take(first, rule);
    RateDecision first_again = co_await limiter_.Take(first, rule);
    RateDecision second_taken = co_await limiter_.Take(second, rule);
    RateDecision second_again = co_await limiter_.Take(second, rule);
    EXPECT_TRUE(first_taken.allowed);
    EXPECT_FALSE(first_again.allowed);
    EXPECT_TRUE(second_taken.allowed);
    EXPECT_FALSE(second_again.allowed);
    co_await Forget(first);
    co_await Forget(second);
  }());
}

TEST(RedisRateLimiter, AdmitsWhenRedisIsUnreachable) {
  asio::io_context io;
  ClientOptions options;
  {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    options.port = acceptor.local_endpoint().port();
  }
  Client client(io.get_executor(), options);
  RedisRateLimiter limiter(client);
  const RateRule rule{.burst = 1, .interval = 60000ms};
  RunTask(io, [&]() -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      RateDecision decision = co_await limiter.Take("unreachable", rule);
      EXPECT_TRUE(decision.allowed);
    }
  }());
}

}  // namespace
}  // namespace market::redis
