#include "storage/redis/geocode_cache.hpp"

#include <spdlog/spdlog.h>

namespace market::redis {
namespace {

std::vector<std::string> GetArgs(const std::string& key) { return {"GET", "geo:" + key}; }

std::vector<std::string> SetArgs(const std::string& key, const std::string& value,
                                 std::chrono::seconds ttl) {
  return {"SET", "geo:" + key, value, "EX", std::to_string(std::max<long long>(1, ttl.count()))};
}

}  // namespace

Task<std::optional<std::string>> RedisGeocodeCache::Get(const std::string& key) {
  try {
    Reply reply = co_await client_.Command(GetArgs(key));
    if (reply.type == Reply::Type::kString) co_return std::move(reply.str);
  } catch (const Unavailable& e) {
    spdlog::warn("geocode cache: {}", e.what());
  }
  co_return std::nullopt;
}

Task<void> RedisGeocodeCache::Put(const std::string& key, const std::string& value,
                                  std::chrono::seconds ttl) {
  try {
    co_await client_.Command(SetArgs(key, value, ttl));
  } catch (const Unavailable& e) {
    spdlog::warn("geocode cache: {}", e.what());
  }
}

}  // namespace market::redis
