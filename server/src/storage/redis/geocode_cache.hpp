#pragma once

#include "services/addresses/geocode_cache.hpp"
#include "storage/redis/client.hpp"

namespace market::redis {

// Keys are `geo:` + the caller's key, each with its own expiry.
class RedisGeocodeCache final : public services::GeocodeCache {
 public:
  explicit RedisGeocodeCache(Client& client) : client_(client) {}

  Task<std::optional<std::string>> Get(const std::string& key) override;
  Task<void> Put(const std::string& key, const std::string& value,
                 std::chrono::seconds ttl) override;

 private:
  Client& client_;
};

}  // namespace market::redis
