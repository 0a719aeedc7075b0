#pragma once

#include <chrono>

namespace market {

struct BackoffPolicy {
  std::chrono::milliseconds base{10'000};
  std::chrono::milliseconds max{3'600'000};
};

// The wait before retrying after failed attempt `attempt` (1-based): base·2^(attempt−1), capped
// at max, of which the upper half is drawn at random ("equal jitter": jobs or calls that failed
// together, say when a provider went down, come back spread out, yet each waits at least half the
// step). For the job queue's retries and the payment provider's.
// `unit` is the random draw in [0, 1]; values outside are clamped. Attempts below 1 count as 1.
std::chrono::milliseconds RetryDelay(const BackoffPolicy& policy, int attempt, double unit);
// The same with a fresh random draw.
std::chrono::milliseconds RetryDelay(const BackoffPolicy& policy, int attempt);

}  // namespace market
