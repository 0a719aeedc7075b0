#include "common/backoff.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace market {
namespace {

using namespace std::chrono_literals;

constexpr BackoffPolicy kPolicy{.base = 1000ms, .max = 60'000ms};

TEST(JobsBackoff, DoublesWithEachAttempt) {
  EXPECT_EQ(RetryDelay(kPolicy, 1, 0.0), 500ms);
  EXPECT_EQ(RetryDelay(kPolicy, 2, 0.0), 1000ms);
  EXPECT_EQ(RetryDelay(kPolicy, 3, 0.0), 2000ms);
  EXPECT_EQ(RetryDelay(kPolicy, 4, 0.0), 4000ms);
}

TEST(JobsBackoff, JitterStaysInTheUpperHalfOfTheStep) {
  EXPECT_EQ(RetryDelay(kPolicy, 3, 0.5), 3000ms);
  EXPECT_GE(RetryDelay(kPolicy, 3, 0.999999), 3999ms);
  EXPECT_LT(RetryDelay(kPolicy, 3, 0.999999), 4000ms);
  for (int i = 0; i < 1000; ++i) {
    auto delay = RetryDelay(kPolicy, 3);
    ASSERT_GE(delay, 2000ms);
    ASSERT_LE(delay, 4000ms);
  }
}

TEST(JobsBackoff, RandomDrawsSpreadRetries) {
  auto first = RetryDelay(kPolicy, 5);
  bool differs = false;
  for (int i = 0; i < 100 && !differs; ++i) differs = RetryDelay(kPolicy, 5) != first;
  EXPECT_TRUE(differs);
}

TEST(JobsBackoff, IsCappedAtMax) {
  EXPECT_EQ(RetryDelay(kPolicy, 7, 0.0), 30'000ms);  // 64 s step capped at 60 s
  EXPECT_EQ(RetryDelay(kPolicy, 20, 0.0), 30'000ms);
  EXPECT_LE(RetryDelay(kPolicy, 20, 0.999999), 60'000ms);
}

TEST(JobsBackoff, HugeAttemptsDoNotOverflow) {
  EXPECT_EQ(RetryDelay(kPolicy, 1000, 0.0), 30'000ms);
  EXPECT_EQ(RetryDelay(kPolicy, std::numeric_limits<int>::max(), 0.0), 30'000ms);
  constexpr BackoffPolicy kLong{.base = 3'600'000ms, .max = 604'800'000ms};
  EXPECT_EQ(RetryDelay(kLong, 64, 0.0), 302'400'000ms);
}

TEST(JobsBackoff, OutOfRangeInputsAreClamped) {
  EXPECT_EQ(RetryDelay(kPolicy, 0, 0.0), 500ms);
  EXPECT_EQ(RetryDelay(kPolicy, -5, 0.0), 500ms);
  EXPECT_EQ(RetryDelay(kPolicy, 1, -1.0), 500ms);
  EXPECT_EQ(RetryDelay(kPolicy, 1, 7.0), 1000ms);
  EXPECT_EQ(RetryDelay(BackoffPolicy{.base = 0ms, .max = 0ms}, 3, 0.5), 0ms);
}

}  // namespace
}  // namespace market
