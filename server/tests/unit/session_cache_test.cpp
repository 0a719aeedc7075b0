// The session cache in front of the session lookup: what it remembers, for how long, and what
// makes it forget.
#include "services/accounts/session_cache.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace market::services {
namespace {

using namespace std::chrono_literals;

const TimePoint kStart = TimePoint(std::chrono::seconds(1'800'000'000));

domain::User Ada(std::int64_t id = 7) {
  return domain::User{
      .id = UserId{id}, .username = "ada", .email = "ada@example.com", .display_name = "Ada"};
}

TEST(SessionCache, RemembersALiveSessionForTheTtlOnly) {
  SessionCache cache(1000ms);
  EXPECT_FALSE(cache.Find(UserId{7}, SessionFamilyId{1}, kStart));
  cache.Remember(cache.generation(), SessionFamilyId{1}, Ada(), kStart);
  auto found = cache.Find(UserId{7}, SessionFamilyId{1}, kStart + 999ms);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->display_name, "Ada");
  EXPECT_FALSE(cache.Find(UserId{7}, SessionFamilyId{1}, kStart + 1000ms));
}

TEST(SessionCache, AnswersOnlyForTheUserTheSessionBelongsTo) {
  SessionCache cache(1000ms);
  cache.Remember(cache.generation(), SessionFamilyId{1}, Ada(7), kStart);
  EXPECT_FALSE(cache.Find(UserId{8}, SessionFamilyId{1}, kStart));
  EXPECT_FALSE(cache.Find(UserId{7}, SessionFamilyId{2}, kStart));
}

TEST(SessionCache, ForgetsEverySessionOfAUser) {
  SessionCache cache(1000ms);
  cache.Remember(cache.generation(), SessionFamilyId{1}, Ada(7), kStart);
  cache.Remember(cache.generation(), SessionFamilyId{2}, Ada(7), kStart);
  cache.Remember(cache.generation(), SessionFamilyId{3}, Ada(8), kStart);
  cache.ForgetUser(UserId{7});
  EXPECT_FALSE(cache.Find(UserId{7}, SessionFamilyId{1}, kStart));
  EXPECT_FALSE(cache.Find(UserId{7}, SessionFamilyId{2}, kStart));
  EXPECT_TRUE(cache.Find(UserId{8}, SessionFamilyId{3}, kStart));
}

TEST(SessionCache, ForgetsOneSession) {
  SessionCache cache(1000ms);
  cache.Remember(cache.generation(), SessionFamilyId{1}, Ada(7), kStart);
  cache.Remember(cache.generation(), SessionFamilyId{2}, Ada(7), kStart);
  cache.ForgetFamily(SessionFamilyId{1});
  EXPECT_FALSE(cache.Find(UserId{7}, SessionFamilyId{1}, kStart));
  EXPECT_TRUE(cache.Find(UserId{7}, SessionFamilyId{2}, kStart));
}

// A lookup that read PostgreSQL before a revocation committed, and answers after the revocation
// made the cache forget, must not put the revoked session back.
TEST(SessionCache, DoesNotRememberALookupThatRacedAForget) {
  SessionCache cache(1000ms);
  std::uint64_t before = cache.generation();
  cache.ForgetFamily(SessionFamilyId{1});
  cache.Remember(before, SessionFamilyId{1}, Ada(), kStart);
  EXPECT_FALSE(cache.Find(UserId{7}, SessionFamilyId{1}, kStart));
  before = cache.generation();
  cache.ForgetUser(UserId{99});
  cache.Remember(before, SessionFamilyId{1}, Ada(), kStart);
  EXPECT_FALSE(cache.Find(UserId{7}, SessionFamilyId{1}, kStart));
  cache.Remember(cache.generation(), SessionFamilyId{1}, Ada(), kStart);
  EXPECT_TRUE(cache.Find(UserId{7}, SessionFamilyId{1}, kStart));
}

TEST(SessionCache, AZeroTtlRemembersNothing) {
  SessionCache cache(0ms);
  EXPECT_FALSE(cache.enabled());
  cache.Remember(cache.generation(), SessionFamilyId{1}, Ada(), kStart);
  EXPECT_FALSE(cache.Find(UserId{7}, SessionFamilyId{1}, kStart));
}

TEST(SessionCache, StaysWithinItsSize) {
  SessionCache cache(1000ms, 3);
  for (std::int64_t family = 1; family <= 3; ++family)
    cache.Remember(cache.generation(), SessionFamilyId{family}, Ada(), kStart);
  // Full of live entries: the fourth one makes room by starting over.
  cache.Remember(cache.generation(), SessionFamilyId{4}, Ada(), kStart);
  EXPECT_TRUE(cache.Find(UserId{7}, SessionFamilyId{4}, kStart));
  EXPECT_FALSE(cache.Find(UserId{7}, SessionFamilyId{1}, kStart));
  // Expired entries are dropped first.
  cache.Remember(cache.generation(), SessionFamilyId{5}, Ada(), kStart + 2s);
  cache.Remember(cache.generation(), SessionFamilyId{6}, Ada(), kStart + 2s);
  cache.Remember(cache.generation(), SessionFamilyId{7}, Ada(), kStart + 2s);
  EXPECT_TRUE(cache.Find(UserId{7}, SessionFamilyId{5}, kStart + 2s));
  EXPECT_TRUE(cache.Find(UserId{7}, SessionFamilyId{6}, kStart + 2s));
  EXPECT_TRUE(cache.Find(UserId{7}, SessionFamilyId{7}, kStart + 2s));
}

TEST(SessionCache, IsSafeAcrossThreads) {
  SessionCache cache(1000ms, 64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (std::int64_t i = 0; i < 20'000; ++i) {
        SessionFamilyId family{i % 100};
        cache.Remember(cache.generation(), family, Ada(t), kStart);
        if (auto user = cache.Find(UserId{t}, family, kStart)) {
          EXPECT_EQ(user->id, UserId{t});
        }
        if (i % 1000 == 0) cache.ForgetUser(UserId{t});
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace
}  // namespace market::services
