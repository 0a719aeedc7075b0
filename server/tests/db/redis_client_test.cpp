#include "storage/redis/client.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "db/db_support.hpp"

namespace market::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::string_view kSuite = "redis_client";

// Lets the other coroutines on this thread run until they suspend.
Task<void> Yield() { co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable); }

int FreePort() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

class RedisClientTest : public ::testing::Test {
 protected:
  asio::io_context io_;
  ClientOptions options_ = ParseRedisUrl(TestRedisUrl());
  Client client_{io_.get_executor(), options_};
  Client other_{io_.get_executor(), options_};
};

TEST_F(RedisClientTest, ConvertsStringIntegerNilArrayStatusAndErrorReplies) {
  const std::string key = UniqueRedisKey(kSuite, "value");
  const std::string list = UniqueRedisKey(kSuite, "list");
  RunTask(io_, [&]() -> Task<void> {
    Reply set = co_await client_.Command(Argv("SET", key, std::string("a\0b", 3), "PX", "60000"));
    EXPECT_EQ(set.type, Reply::Type::kStatus);
    EXPECT_EQ(set.str, "OK");

    Reply get = co_await client_.Command(Argv("GET", key));
    EXPECT_EQ(get.type, Reply::Type::kString);
    EXPECT_EQ(get.str, std::string("a\0b", 3));

    Reply missing = co_await client_.Command(Argv("GET", UniqueRedisKey(kSuite, "missing")));
    EXPECT_EQ(missing.type, Reply::Type::kNil);

    Reply counter = co_await client_.Command(Argv("INCRBY", list + ":n", "41"));
    EXPECT_EQ(counter.type, Reply::Type::kInteger);
    EXPECT_EQ(counter.integer, 41);
    counter = co_await client_.Command(Argv("INCR", list + ":n"));
    EXPECT_EQ(counter.integer, 42);

    co_await client_.Command(Argv("RPUSH", list, "x", "yy"));
    Reply range = co_await client_.Command(Argv("LRANGE", list, "0", "-1"));
    EXPECT_EQ(range.type, Reply::Type::kArray);
    EXPECT_EQ(range.elements.size(), 2u);
    if (range.elements.size() == 2) {
      EXPECT_EQ(range.elements[0].str, "x");
      EXPECT_EQ(range.elements[1].type, Reply::Type::kString);
      EXPECT_EQ(range.elements[1].str, "yy");
    }

    Reply nested = co_await client_.Command(Argv("EVAL", "return {1, {'a', false}}", "0"));
    EXPECT_EQ(nested.type, Reply::Type::kArray);
    if (nested.elements.size() == 2) {
      EXPECT_EQ(nested.elements[0].integer, 1);
      EXPECT_EQ(nested.elements[1].type, Reply::Type::kArray);
      EXPECT_EQ(nested.elements[1].elements.size(), 2u);
    }

    Reply wrong_type = co_await client_.Command(Argv("INCR", key));
    EXPECT_EQ(wrong_type.type, Reply::Type::kError);
    EXPECT_NE(wrong_type.str.find("not an integer"), std::string::npos) << wrong_type.str;

    co_await client_.Command(Argv("DEL", key, list, list + ":n"));
  }());
}

TEST_F(RedisClientTest, PipelinesManyConcurrentCommandsOnOneConnection) {
  const std::string key = UniqueRedisKey(kSuite, "counter");
  constexpr int kCommands = 1000;
  RunTask(io_, [&]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    int completed = 0;
    int failed = 0;
    std::vector<bool> seen(kCommands + 1, false);
    asio::steady_timer all_done(executor, std::chrono::steady_clock::time_point::max());
    for (int i = 0; i < kCommands; ++i) {
      auto increment = [&]() -> Task<void> {
        Reply reply = co_await client_.Command(Argv("INCR", key));
        if (reply.type == Reply::Type::kInteger && reply.integer >= 1 &&
            reply.integer <= kCommands && !seen[reply.integer]) {
          seen[reply.integer] = true;
        } else {
          ++failed;
        }
      };
      asio::co_spawn(executor, increment, [&](std::exception_ptr e) {
        if (e) ++failed;
        if (++completed == kCommands) all_done.cancel();
      });
    }
    while (completed < kCommands) {
      co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    EXPECT_EQ(failed, 0);
    Reply total = co_await client_.Command(Argv("GET", key));
    EXPECT_EQ(total.str, std::to_string(kCommands));
    co_await client_.Command(Argv("DEL", key));
  }());
}

TEST_F(RedisClientTest, ScriptSha1MatchesTheServers) {
  Script script("return 'sha check'");
  RunTask(io_, [&]() -> Task<void> {
    Reply loaded = co_await client_.Command(Argv("SCRIPT", "LOAD", script.source()));
    EXPECT_EQ(loaded.str, script.sha1());
  }());
  EXPECT_EQ(Script("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST_F(RedisClientTest, EvalLoadsAMissingScriptWithEvalThenRunsItBySha) {
  const std::string key = UniqueRedisKey(kSuite, "eval");
  // A source of its own, so no other test run can have loaded it meanwhile.
  Script script("-- " + key + "\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])");
  RunTask(io_, [&]() -> Task<void> {
    Reply id = co_await client_.Command(Argv("CLIENT", "ID"));
    // The last command a connection ran, as the server saw it.
    auto last_command = [&]() -> Task<std::string> {
      Reply listed =
          co_await other_.Command(Argv("CLIENT", "LIST", "ID", std::to_string(id.integer)));
      const auto at = listed.str.find(" cmd=");
      co_return at == std::string::npos
          ? listed.str
          : listed.str.substr(at + 5, listed.str.find(' ', at + 1) - at - 5);
    };
    co_await client_.Command(Argv("SCRIPT", "FLUSH"));
    Reply exists = co_await client_.Command(Argv("SCRIPT", "EXISTS", script.sha1()));
    EXPECT_EQ(exists.elements.at(0).integer, 0);

    Reply first = co_await client_.Eval(script, Argv(key), Argv("5"));
    EXPECT_EQ(first.type, Reply::Type::kInteger);
    EXPECT_EQ(first.integer, 5);
    std::string ran_eval = co_await last_command();
    EXPECT_EQ(ran_eval, "eval");
    exists = co_await client_.Command(Argv("SCRIPT", "EXISTS", script.sha1()));
    EXPECT_EQ(exists.elements.at(0).integer, 1);

    Reply second = co_await client_.Eval(script, Argv(key), Argv("2"));
    EXPECT_EQ(second.integer, 7);
    std::string ran_evalsha = co_await last_command();
    EXPECT_EQ(ran_evalsha, "evalsha");

    const Script failing("return redis.call('NOPE')");
    Reply broken = co_await client_.Eval(failing, Argv(), Argv());
    EXPECT_EQ(broken.type, Reply::Type::kError);
    co_await client_.Command(Argv("DEL", key));
  }());
}

TEST(RedisClient, FailsFastWithUnavailableWhenNothingListens) {
  asio::io_context io;
  ClientOptions options;
  options.port = FreePort();
  options.connect_timeout = 5s;
  options.command_timeout = 5s;
  Client client(io.get_executor(), options);
  RunTask(io, [&]() -> Task<void> {
    for (int attempt = 0; attempt < 3; ++attempt) {
      const auto started = std::chrono::steady_clock::now();
      bool unavailable = false;
      try {
        co_await client.Command(Argv("PING"));
      } catch (const Unavailable& e) {
        unavailable = true;
      }
      EXPECT_TRUE(unavailable);
      // A refused connection is reported as such, not after the connect timeout.
      EXPECT_LT(std::chrono::steady_clock::now() - started, options.connect_timeout);
    }
    bool ping_failed = false;
    try {
      co_await client.Ping();
    } catch (const Unavailable&) {
      ping_failed = true;
    }
    EXPECT_TRUE(ping_failed);
  }());
}

TEST_F(RedisClientTest, ConcurrentCommandsWaitForOneConnectAttempt) {
  // A server that accepts and never answers: the SELECT of the connect step times out.
  asio::ip::tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
  std::vector<asio::ip::tcp::socket> accepted;
  ClientOptions options;
  options.port = acceptor.local_endpoint().port();
  options.db = 1;
  options.connect_timeout = 300ms;
  Client client(io_.get_executor(), options);
  RunTask(io_, [&]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto accept_all = [&]() -> Task<void> {
      for (;;) accepted.push_back(co_await acceptor.async_accept(asio::use_awaitable));
    };
    asio::co_spawn(executor, accept_all, asio::detached);
    int unavailable = 0;
    int finished = 0;
    asio::steady_timer all_done(executor, std::chrono::steady_clock::time_point::max());
    for (int i = 0; i < 20; ++i) {
      auto ping = [&]() -> Task<void> {
        try {
          co_await client.Command(Argv("PING"));
        } catch (const Unavailable&) {
          ++unavailable;
        }
      };
      asio::co_spawn(executor, ping, [&](std::exception_ptr) {
        if (++finished == 20) all_done.cancel();
      });
    }
    while (finished < 20) co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(unavailable, 20);
    EXPECT_EQ(accepted.size(), 1u);
  }());
}

TEST_F(RedisClientTest, ReconnectsOnTheNextCommandAfterTheServerClosedTheConnection) {
  const std::string key = UniqueRedisKey(kSuite, "reconnect");
  RunTask(io_, [&]() -> Task<void> {
    co_await client_.Command(Argv("SET", key, "kept", "PX", "60000"));
    Reply id = co_await client_.Command(Argv("CLIENT", "ID"));
    // By id rather than TYPE normal: other suites may share this Redis.
    Reply killed =
        co_await other_.Command(Argv("CLIENT", "KILL", "ID", std::to_string(id.integer)));
    EXPECT_EQ(killed.integer, 1);

    Reply after = co_await client_.Command(Argv("GET", key));
    EXPECT_EQ(after.str, "kept");
    Reply new_id = co_await client_.Command(Argv("CLIENT", "ID"));
    EXPECT_NE(new_id.integer, id.integer);
    co_await client_.Command(Argv("DEL", key));
  }());
}

TEST_F(RedisClientTest, DoesNotReuseAnIdleConnectionWhoseCloseItHasNotProcessedYet) {
  asio::io_context killer_io;
  Client killer(killer_io.get_executor(), options_);
  long long id = 0;
  RunTask(io_, [&]() -> Task<void> {
    Reply reply = co_await client_.Command(Argv("CLIENT", "ID"));
    id = reply.integer;
  }());
  RunTask(killer_io, [&]() -> Task<void> {
    Reply killed = co_await killer.Command(Argv("CLIENT", "KILL", "ID", std::to_string(id)));
    EXPECT_EQ(killed.integer, 1);
  }());
  // client_'s loop has not run since the kill: the close waits unread in its socket.
  RunTask(io_, [&]() -> Task<void> {
    Reply reply = co_await client_.Command(Argv("CLIENT", "ID"));
    EXPECT_EQ(reply.type, Reply::Type::kInteger);
    EXPECT_NE(reply.integer, id);
  }());
}

TEST_F(RedisClientTest, SelectsTheDatabaseOfTheUrlOnEveryConnection) {
  const std::string key = UniqueRedisKey(kSuite, "db");
  ClientOptions db3 = options_;
  db3.db = 3;
  Client client(io_.get_executor(), db3);
  RunTask(io_, [&]() -> Task<void> {
    co_await client.Command(Argv("SET", key, "in db 3", "PX", "60000"));
    Reply id = co_await client.Command(Argv("CLIENT", "ID"));
    co_await other_.Command(Argv("CLIENT", "KILL", "ID", std::to_string(id.integer)));
    Reply again = co_await client.Command(Argv("GET", key));
    EXPECT_EQ(again.str, "in db 3");
    Reply elsewhere = co_await other_.Command(Argv("EXISTS", key));
    EXPECT_EQ(elsewhere.integer, options_.db == 3 ? 1 : 0);
    co_await client.Command(Argv("DEL", key));
  }());
}

TEST_F(RedisClientTest, CommandStuckPastItsTimeoutIsUnavailableAndTheClientRecovers) {
  const std::string list = UniqueRedisKey(kSuite, "blocked");
  const std::string key = UniqueRedisKey(kSuite, "after");
  ClientOptions quick = options_;
  quick.command_timeout = 200ms;
  Client client(io_.get_executor(), quick);
  RunTask(io_, [&]() -> Task<void> {
    co_await client.Command(Argv("SET", key, "fresh", "PX", "60000"));
    bool unavailable = false;
    try {
      co_await client.Command(Argv("BLPOP", list, "0"));
    } catch (const Unavailable&) {
      unavailable = true;
    }
    EXPECT_TRUE(unavailable);

    Reply after = co_await client.Command(Argv("GET", key));
    EXPECT_EQ(after.type, Reply::Type::kString);
    EXPECT_EQ(after.str, "fresh");
    // The blocked connection was replaced, so nobody is left waiting to pop this.
    co_await other_.Command(Argv("RPUSH", list, "late"));
    Reply length = co_await other_.Command(Argv("LLEN", list));
    EXPECT_EQ(length.integer, 1);
    co_await other_.Command(Argv("DEL", list, key));
  }());
}

TEST_F(RedisClientTest, LateReplyOfATimedOutCommandIsDroppedAndLaterRepliesStayMatched) {
  const std::string key = UniqueRedisKey(kSuite, "late");
  ClientOptions patient = options_;
  patient.command_timeout = 800ms;
  Client client(io_.get_executor(), patient);
  RunTask(io_, [&]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    co_await client.Command(Argv("SET", key, "mine", "PX", "60000"));
    Reply id = co_await client.Command(Argv("CLIENT", "ID"));

    // Two pipelined half-second blocks: the first answers in time (so the connection is not
    // stuck), the second only after its timeout.
    int finished = 0;
    bool sent = false;
    Reply first;
    asio::steady_timer first_done(executor, std::chrono::steady_clock::time_point::max());
    auto block = [&]() -> Task<void> {
      sent = true;
      first = co_await client.Command(Argv("BLPOP", UniqueRedisKey(kSuite, "never"), "0.5"));
    };
    asio::co_spawn(executor, block, [&](std::exception_ptr e) {
      EXPECT_FALSE(e);
      ++finished;
      first_done.cancel();
    });
    while (!sent) co_await Yield();
    bool unavailable = false;
    try {
      co_await client.Command(Argv("BLPOP", UniqueRedisKey(kSuite, "never"), "0.5"));
    } catch (const Unavailable&) {
      unavailable = true;
    }
    EXPECT_TRUE(unavailable);
    while (finished == 0) co_await first_done.async_wait(asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(first.type, Reply::Type::kNil);

    Reply mine = co_await client.Command(Argv("GET", key));
    EXPECT_EQ(mine.type, Reply::Type::kString);
    EXPECT_EQ(mine.str, "mine");
    Reply same_id = co_await client.Command(Argv("CLIENT", "ID"));
    EXPECT_EQ(same_id.integer, id.integer) << "a slow but live connection was replaced";
    co_await client.Command(Argv("DEL", key));
  }());
}

TEST_F(RedisClientTest, CallerCancellationEndsTheWaitAndTheReplyIsDroppedLater) {
  const std::string list = UniqueRedisKey(kSuite, "cancelled");
  const std::string key = UniqueRedisKey(kSuite, "after-cancel");
  ClientOptions patient = options_;
  patient.command_timeout = 60s;  // longer than RunTask waits: only the cancellation can end it
  Client client(io_.get_executor(), patient);
  auto cancel_and_recover = [&]() -> Task<void> {
    using namespace asio::experimental::awaitable_operators;
    auto executor = co_await asio::this_coro::executor;
    co_await client.Command(Argv("SET", key, "after", "PX", "60000"));
    asio::steady_timer give_up(executor, 50ms);
    auto outcome = co_await (client.Command(Argv("BLPOP", list, "0")) ||
                             give_up.async_wait(asio::use_awaitable));
    EXPECT_EQ(outcome.index(), 1u);

    // Unblocks the abandoned BLPOP; its reply must not be taken for the GET's.
    co_await other_.Command(Argv("RPUSH", list, "x"));
    Reply after = co_await client.Command(Argv("GET", key));
    EXPECT_EQ(after.type, Reply::Type::kString);
    EXPECT_EQ(after.str, "after");
    Reply length = co_await other_.Command(Argv("LLEN", list));
    EXPECT_EQ(length.integer, 0) << "the abandoned BLPOP did not run";
    co_await other_.Command(Argv("DEL", list, key));
  };
  RunTask(io_, cancel_and_recover(), patient.command_timeout / 2);
}

TEST_F(RedisClientTest, ResolvesHostNamesOffTheIoThread) {
  if (options_.host != "127.0.0.1") GTEST_SKIP() << "needs Redis on 127.0.0.1";
  ClientOptions by_name = options_;
  by_name.host = "localhost";
  Client client(io_.get_executor(), by_name);
  RunTask(io_, [&]() -> Task<void> {
    Reply pong = co_await client.Command(Argv("PING"));
    EXPECT_EQ(pong.str, "PONG");
    co_await client.Ping();
  }());
}

TEST_F(RedisClientTest, DestroyingTheClientFailsCommandsInFlight) {
  ClientOptions patient = options_;
  patient.command_timeout = 60s;  // longer than RunTask waits: only the destruction can end it
  auto doomed = std::make_unique<Client>(io_.get_executor(), patient);
  const std::string list = UniqueRedisKey(kSuite, "doomed");
  auto destroy_mid_command = [&]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    co_await doomed->Command(Argv("PING"));
    bool done = false;
    bool sent = false;
    bool unavailable = false;
    asio::steady_timer finished(executor, std::chrono::steady_clock::time_point::max());
    auto block = [&]() -> Task<void> {
      sent = true;
      try {
        co_await doomed->Command(Argv("BLPOP", list, "0"));
      } catch (const Unavailable&) {
        unavailable = true;
      }
    };
    asio::co_spawn(executor, block, [&](std::exception_ptr) {
      done = true;
      finished.cancel();
    });
    while (!sent) co_await Yield();
    doomed.reset();
    while (!done) co_await finished.async_wait(asio::as_tuple(asio::use_awaitable));
    EXPECT_TRUE(unavailable);
  };
  RunTask(io_, destroy_mid_command(), patient.command_timeout / 2);
}

TEST(ParseRedisUrl, ReadsHostPortAndDatabase) {
  ClientOptions options = ParseRedisUrl("redis://127.0.0.1:56379/1");
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_EQ(options.port, 56379);
  EXPECT_EQ(options.db, 1);

  options = ParseRedisUrl("redis://cache.internal");
  EXPECT_EQ(options.host, "cache.internal");
  EXPECT_EQ(options.port, 6379);
  EXPECT_EQ(options.db, 0);

  options = ParseRedisUrl("redis://[::1]:7000/");
  EXPECT_EQ(options.host, "::1");
  EXPECT_EQ(options.port, 7000);
  EXPECT_EQ(options.db, 0);
}

TEST(ParseRedisUrl, RejectsMalformedUrlsWithAMessage) {
  for (const char* url : {"", "127.0.0.1:6379", "http://h:1/0", "redis://", "redis://:6379",
                          "redis://h:", "redis://h:port", "redis://h:70000", "redis://h:0",
                          "redis://h/x", "redis://h/-1", "redis://h:1/0/extra", "redis://user:pw@h",
                          "redis://h?db=1", "redis://[::1"}) {
    try {
      ParseRedisUrl(url);
      ADD_FAILURE() << "accepted " << url;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("Redis URL"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace market::redis
