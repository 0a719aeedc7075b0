#pragma once

#include "services/rate_limiter.hpp"
#include "storage/redis/client.hpp"

namespace market::redis {

// Token buckets in Redis as GCRA (one key per bucket holding its theoretical arrival time), run
// atomically by one Lua script on the server clock.
class RedisRateLimiter final : public services::RateLimiter {
 public:
  explicit RedisRateLimiter(Client& client);
  Task<services::RateDecision> Take(const std::string& key,
                                    const services::RateRule& rule) override;

 private:
  Client& client_;
};

}  // namespace market::redis
