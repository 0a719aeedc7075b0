// AuthService and UsersService against the real PostgreSQL: rotation, reuse detection, family
// revocation and the races between them.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <random>

#include "db/db_support.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/accounts/users_service.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/params.hpp"
#include "storage/pg/pool.hpp"
#include "storage/pg/sessions_repository.hpp"
#include "storage/pg/users_repository.hpp"

namespace market {
namespace {

using namespace std::chrono_literals;
using services::Session;

class AllowAll final : public services::RateLimiter {
 public:
  Task<services::RateDecision> Take(const std::string&, const services::RateRule&) override {
    co_return services::RateDecision{};
  }
};

class ManualClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now() + offset; }
  std::chrono::seconds offset{0};
};

std::string Unique(std::string_view prefix) {
  static std::mt19937_64 rng(std::random_device{}());
  return std::string(prefix) + std::to_string(rng() % 1'000'000'000);
}

// A plain coroutine function, not a lambda: its arguments live in its own frame.
Task<void> RefreshInto(services::AuthService& auth, std::string token, services::ClientInfo client,
                       std::optional<Result<Session>>& out, int& done) {
  out.emplace(co_await auth.Refresh(std::move(token), std::move(client)));
  ++done;
}

class AccountsTest : public ::testing::Test {
 protected:
  AccountsTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 8}),
        users_repo_(pool_),
        sessions_repo_(pool_),
        jwt_(std::string(40, 's'), "marketplace"),
        hash_pool_(2),
        auth_(pool_, users_repo_, sessions_repo_, limiter_, jwt_, hasher_, hash_pool_, clock_,
              services::AuthOptions{.rate_limits = false}),
        users_(pool_, users_repo_, sessions_repo_, auth_) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
  }

  Session Register(std::string username = Unique("user")) {
    auto session =
        RunTask(io_, auth_.Register(domain::Registration{.email = username + "@example.com",
                                                         .username = username,
                                                         .password = "a long pass phrase"},
                                    client_));
    EXPECT_TRUE(session.ok()) << (session.ok() ? "" : session.error().message);
    return std::move(session).value();
  }

  Result<Session> Refresh(const std::string& token) {
    return RunTask(io_, auth_.Refresh(token, client_));
  }

  Result<services::Principal> Authenticate(const Session& session) {
    return RunTask(io_, auth_.Authenticate("Bearer " + session.tokens.access_token));
  }

  std::int64_t Count(std::string_view sql, std::int64_t id) {
    pg::Statement statement{"test.count", sql};
    auto result = RunTask(io_, pool_.Execute(statement, pg::Params(id)));
    return result.Int(0, "n");
  }

  boost::asio::io_context io_;
  pg::Pool pool_;
  pg::PgUsersRepository users_repo_;
  pg::PgSessionsRepository sessions_repo_;
  AllowAll limiter_;
  auth::JwtCodec jwt_;
  auth::PasswordHasher hasher_;
  boost::asio::thread_pool hash_pool_;
  ManualClock clock_;
  services::AuthService auth_;
  services::UsersService users_;
  services::ClientInfo client_{.ip = "127.0.0.1", .user_agent = "gtest"};
};

TEST_F(AccountsTest, RegisterStoresOnlyTheHashOfTheRefreshToken) {
  Session session = Register();
  EXPECT_TRUE(Authenticate(session).ok());
  auto result = RunTask(
      io_,
      pool_.Execute(pg::Statement{"test.token_hashes",
                                  "SELECT count(*) AS n FROM refresh_tokens t JOIN "
                                  "session_families f ON f.id = t.family_id "
                                  "WHERE f.user_id = $1 AND t.token_hash = $2"},
                    pg::Params(session.user.id.value, pg::Bytea{session.tokens.refresh_token})));
  EXPECT_EQ(result.Int(0, "n"), 0) << "the raw token must never be stored";
}

TEST_F(AccountsTest, RefreshRotatesAndReuseRevokesTheWholeFamily) {
  Session first = Register();
  auto second = Refresh(first.tokens.refresh_token);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->tokens.refresh_token, first.tokens.refresh_token);
  EXPECT_EQ(second->tokens.refresh_expires_at, first.tokens.refresh_expires_at)
      << "rotation must not extend the absolute lifetime";

  auto replay = Refresh(first.tokens.refresh_token);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, ErrorCode::kTokenReused);

  auto after = Refresh(second->tokens.refresh_token);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kInvalidToken);
  EXPECT_FALSE(Authenticate(*second).ok()) << "access tokens of a revoked family must stop";
  EXPECT_EQ(Count("SELECT count(*) AS n FROM session_families WHERE user_id = $1 AND "
                  "revoked_at IS NULL",
                  first.user.id.value),
            0);
}

TEST_F(AccountsTest, ConcurrentRefreshesWithOneTokenHaveExactlyOneWinner) {
  for (int round = 0; round < 5; ++round) {
    Session session = Register();
    constexpr int kRacers = 8;
    std::vector<std::optional<Result<Session>>> outcomes(kRacers);
    int done = 0;
    for (int i = 0; i < kRacers; ++i) {
      boost::asio::co_spawn(
          io_, RefreshInto(auth_, session.tokens.refresh_token, client_, outcomes[i], done),
          boost::asio::detached);
    }
    io_.restart();
    io_.run();
    io_.restart();
    ASSERT_EQ(done, kRacers);
    int winners = 0;
    for (auto& outcome : outcomes) {
      if (outcome->ok()) {
        ++winners;
      } else {
        EXPECT_EQ(outcome->error().code, ErrorCode::kTokenReused);
      }
    }
    EXPECT_EQ(winners, 1);
    // One original token plus exactly one rotation in the database.
    EXPECT_EQ(Count("SELECT count(*) AS n FROM refresh_tokens t JOIN session_families f ON "
                    "f.id = t.family_id WHERE f.user_id = $1",
                    session.user.id.value),
              2);
  }
}

TEST_F(AccountsTest, ExpiredFamilyCannotBeRefreshed) {
  Session session = Register();
  clock_.offset = std::chrono::hours(24 * 30) + 1s;
  auto refreshed = Refresh(session.tokens.refresh_token);
  ASSERT_FALSE(refreshed.ok());
  EXPECT_EQ(refreshed.error().code, ErrorCode::kInvalidToken);
}

TEST_F(AccountsTest, LogoutEndsOnlyThatSession) {
  Session a = Register();
  auto b = RunTask(io_, auth_.Login(a.user.username, "a long pass phrase", client_));
  ASSERT_TRUE(b.ok());
  RunTask(io_, auth_.Logout(a.tokens.refresh_token));
  EXPECT_FALSE(Authenticate(a).ok());
  EXPECT_FALSE(Refresh(a.tokens.refresh_token).ok());
  EXPECT_TRUE(Authenticate(*b).ok());
  EXPECT_TRUE(Refresh(b->tokens.refresh_token).ok());
}

TEST_F(AccountsTest, LogoutAllEndsEverySession) {
  Session a = Register();
  auto b = RunTask(io_, auth_.Login(a.user.email, "a long pass phrase", client_));
  ASSERT_TRUE(b.ok());
  auto principal = Authenticate(a);
  ASSERT_TRUE(principal.ok());
  RunTask(io_, auth_.LogoutAll(*principal));
  EXPECT_FALSE(Authenticate(a).ok());
  EXPECT_FALSE(Authenticate(*b).ok());
  EXPECT_FALSE(Refresh(b->tokens.refresh_token).ok());
}

TEST_F(AccountsTest, PasswordChangeKeepsTheCurrentSessionOnly) {
  Session current = Register();
  auto other = RunTask(io_, auth_.Login(current.user.username, "a long pass phrase", client_));
  ASSERT_TRUE(other.ok());
  auto principal = Authenticate(current);
  ASSERT_TRUE(principal.ok());

  auto wrong =
      RunTask(io_, users_.ChangePassword(*principal, "not it at all", "another phrase 42"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().fields.at(0).field, "current_password");

  auto changed =
      RunTask(io_, users_.ChangePassword(*principal, "a long pass phrase", "another phrase 42"));
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(Authenticate(current).ok());
  EXPECT_FALSE(Authenticate(*other).ok());
  EXPECT_FALSE(
      RunTask(io_, auth_.Login(current.user.username, "a long pass phrase", client_)).ok());
  EXPECT_TRUE(RunTask(io_, auth_.Login(current.user.username, "another phrase 42", client_)).ok());
}

TEST_F(AccountsTest, DeletedAccountIsLockedOutAtOnce) {
  Session session = Register();
  auto principal = Authenticate(session);
  ASSERT_TRUE(principal.ok());
  ASSERT_TRUE(RunTask(io_, users_.DeleteAccount(*principal)).ok());
  EXPECT_FALSE(Authenticate(session).ok());
  EXPECT_FALSE(Refresh(session.tokens.refresh_token).ok());
  auto login = RunTask(io_, auth_.Login(session.user.username, "a long pass phrase", client_));
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(login.error().code, ErrorCode::kInvalidCredentials);
  EXPECT_FALSE(RunTask(io_, users_.PublicProfile(session.user.username)).ok());
}

TEST_F(AccountsTest, DuplicateUsernameOrEmailIsAConflictOnTheRightField) {
  Session taken = Register();
  auto same_name =
      RunTask(io_, auth_.Register(domain::Registration{.email = Unique("x") + "@example.com",
                                                       .username = taken.user.username,
                                                       .password = "a long pass phrase"},
                                  client_));
  ASSERT_FALSE(same_name.ok());
  EXPECT_EQ(same_name.error().code, ErrorCode::kConflict);
  EXPECT_EQ(same_name.error().fields.at(0).field, "username");

  auto same_email =
      RunTask(io_, auth_.Register(domain::Registration{.email = "  " + taken.user.email,
                                                       .username = Unique("other"),
                                                       .password = "a long pass phrase"},
                                  client_));
  ASSERT_FALSE(same_email.ok());
  EXPECT_EQ(same_email.error().fields.at(0).field, "email");
}

TEST_F(AccountsTest, LoginFailsTheSameWayForUnknownUserAndWrongPassword) {
  Session session = Register();
  auto wrong = RunTask(io_, auth_.Login(session.user.username, "wrong password!", client_));
  auto unknown = RunTask(io_, auth_.Login(Unique("nobody"), "wrong password!", client_));
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.error().code, unknown.error().code);
  EXPECT_EQ(wrong.error().message, unknown.error().message);
}

}  // namespace
}  // namespace market
