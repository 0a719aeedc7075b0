#include "storage/redis/rate_limiter.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/throttle.hpp"

namespace market::redis {

namespace {

// GCRA on the Redis clock, so every server instance agrees on "now". KEYS[1] holds the
// theoretical arrival time (TAT) in ms; ARGV = interval ms, burst. Returns {allowed, retry ms}.
// A denied request leaves the bucket untouched. The key expires when the bucket is full again.
constexpr const char* kTakeSource = R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if now < allow_at then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', string.format('%d', new_tat - now))
return {1, 0}
)lua";

const Script& TakeScript() {
  static const Script script(kTakeSource);
  return script;
}

// Admitting without a limit is only acceptable if someone hears about it, but a Redis outage
// would otherwise log once per request: one line per 5 s over all threads.
void WarnAdmitting(const std::string& why) {
  static Throttle throttle(std::chrono::seconds(5));
  auto held = throttle.Admit();
  if (!held) return;
  // The bucket key is left out: it may hold an e-mail address or a client IP.
  spdlog::warn("rate limiter: admitting requests without a limit: {}{}", why,
               *held > 0 ? fmt::format(" ({} more since the last warning)", *held) : "");
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(Client& client) : client_(client) {}

Task<services::RateDecision> RedisRateLimiter::Take(const std::string& key,
                                                    const services::RateRule& rule) {
  // A rule is written by us, not by a client: a broken one is a bug to surface, not to admit.
  if (rule.burst < 1 || rule.interval.count() < 1) {
    throw std::invalid_argument("rate rule needs burst >= 1 and interval >= 1 ms");
  }
  std::vector<std::string> keys = {"rl:" + key};
  std::vector<std::string> args = {std::to_string(rule.interval.count()),
                                   std::to_string(rule.burst)};
  Reply reply;
  try {
    reply = co_await client_.Eval(TakeScript(), std::move(keys), std::move(args));
  } catch (const Unavailable& e) {
    WarnAdmitting(e.what());
    co_return services::RateDecision{};
  }
  // An error reply (OOM, READONLY replica, LOADING) is Redis trouble too: same policy.
  if (reply.type != Reply::Type::kArray || reply.elements.size() != 2 ||
      reply.elements[0].type != Reply::Type::kInteger ||
      reply.elements[1].type != Reply::Type::kInteger) {
    WarnAdmitting(reply.type == Reply::Type::kError ? reply.str : "unexpected reply");
    co_return services::RateDecision{};
  }
  services::RateDecision decision;
  decision.allowed = reply.elements[0].integer == 1;
  decision.retry_after = std::chrono::milliseconds(reply.elements[1].integer);
  co_return decision;
}

}  // namespace market::redis
