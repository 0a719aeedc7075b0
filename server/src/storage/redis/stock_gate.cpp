#include "storage/redis/stock_gate.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/throttle.hpp"

namespace market::redis {

namespace {

using services::GateOutcome;
using services::GateResult;
using services::StockLevel;
using services::StockWant;

// Scripts only ever add to or take from a counter that holds an integer: INCRBY or DECRBY on
// anything else would fail half-way through a script, and Redis does not roll back the writes
// already made. Keys of counters are read from a hold by GiveBack: fine on one Redis, not on a
// cluster (where every key must be passed in KEYS).
constexpr const char* kCountFunction = R"lua(
local function count(key)
  local value = tonumber(redis.call('GET', key))
  if value ~= nil and value == math.floor(value) then
    return value
  end
  return nil
end
)lua";

// KEYS[1] the hold, KEYS[2..] the counters; ARGV[1] the hold's TTL in seconds, ARGV[i] the
// quantity wanted from KEYS[i]. Replies {0} taken, {1} already held, {2, i...} missing counters,
// {3, i, available, ...} short counters, i being the position of the want (1-based). A counter
// that is not an integer is deleted and reported missing, so that seeding repairs it.
constexpr const char* kTakeBody = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {1}
end
local missing = {2}
local short = {3}
for i = 2, #KEYS do
  local available = count(KEYS[i])
  if available == nil then
    redis.call('DEL', KEYS[i])
    missing[#missing + 1] = i - 1
  elseif available < tonumber(ARGV[i]) then
    short[#short + 1] = i - 1
    short[#short + 1] = available
  end
end
if #missing > 1 then
  return missing
end
if #short > 1 then
  return short
end
for i = 2, #KEYS do
  redis.call('DECRBY', KEYS[i], ARGV[i])
  redis.call('HSET', KEYS[1], KEYS[i], ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return {0}
)lua";

// KEYS the counters; ARGV[1] their TTL in ms, ARGV[i + 1] the value of KEYS[i]. Returns how many
// were created.
constexpr const char* kSeedBody = R"lua(
local created = 0
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[i + 1], 'NX', 'PX', ARGV[1]) then
    created = created + 1
  end
end
return created
)lua";

// KEYS[1] the hold (counter key -> quantity). Gives each quantity back to its counter if that
// still exists (a missing one is re-seeded from PostgreSQL, which no longer counts the hold) and
// forgets the hold, so that a second GiveBack finds nothing. Returns how many lines it had.
constexpr const char* kGiveBackBody = R"lua(
local taken = redis.call('HGETALL', KEYS[1])
for i = 1, #taken, 2 do
  local quantity = tonumber(taken[i + 1])
  if quantity ~= nil and count(taken[i]) ~= nil then
    redis.call('INCRBY', taken[i], quantity)
  end
end
redis.call('DEL', KEYS[1])
return #taken / 2
)lua";

// KEYS the counters, ARGV[i] the quantity to add to KEYS[i] if it exists. Returns how many
// counters existed.
constexpr const char* kReleaseBody = R"lua(
local released = 0
for i = 1, #KEYS do
  if count(KEYS[i]) ~= nil then
    redis.call('INCRBY', KEYS[i], ARGV[i])
    released = released + 1
  end
end
return released
)lua";

// KEYS the counters, ARGV[i] the value KEYS[i] was read with. Deletes each counter that still
// holds exactly that value and returns the positions (1-based) of those it deleted.
constexpr const char* kDropIfUnchangedBody = R"lua(
local dropped = {}
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then
    redis.call('DEL', KEYS[i])
    dropped[#dropped + 1] = i
  end
end
return dropped
)lua";

const Script& TakeScript() {
  static const Script script(std::string(kCountFunction) + kTakeBody);
  return script;
}

const Script& SeedScript() {
  static const Script script(kSeedBody);
  return script;
}

const Script& GiveBackScript() {
  static const Script script(std::string(kCountFunction) + kGiveBackBody);
  return script;
}

const Script& ReleaseScript() {
  static const Script script(std::string(kCountFunction) + kReleaseBody);
  return script;
}

const Script& DropIfUnchangedScript() {
  static const Script script(kDropIfUnchangedBody);
  return script;
}

// A Redis outage would otherwise log once per checkout: one line per 5 s over all threads.
void Warn(std::string_view what, std::string_view why) {
  static Throttle throttle(std::chrono::seconds(5));
  auto held = throttle.Admit();
  if (!held) return;
  spdlog::warn("stock gate: {} skipped, checkout goes on through PostgreSQL alone: {}{}", what, why,
               *held > 0 ? fmt::format(" ({} more since the last warning)", *held) : "");
}

// `prefix` as a SCAN MATCH pattern that matches only itself.
std::string GlobEscape(std::string_view prefix) {
  std::string escaped;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

std::optional<long long> ParseInteger(std::string_view text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

int ClampToInt(long long value) {
  return static_cast<int>(std::clamp<long long>(value, std::numeric_limits<int>::min(),
                                                std::numeric_limits<int>::max()));
}

using Merged = std::vector<std::pair<ListingId, long long>>;

// Positive quantities summed per listing, in listing order.
Merged Merge(const std::vector<StockWant>& wants) {
  std::map<ListingId, long long> merged;
  for (const auto& want : wants) {
    if (want.quantity > 0) merged[want.listing] += want.quantity;
  }
  return {merged.begin(), merged.end()};
}

// The Take script's reply; nullopt when it cannot be read (positions come from our own script, so
// that would be a bug in it, answered as "unknown" like any other unreadable reply).
std::optional<GateResult> ReadTake(const Reply& reply, const Merged& merged) {
  if (reply.type != Reply::Type::kArray || reply.elements.empty() ||
      !std::all_of(reply.elements.begin(), reply.elements.end(),
                   [](const Reply& e) { return e.type == Reply::Type::kInteger; })) {
    return std::nullopt;
  }
  const auto& elements = reply.elements;
  auto listing_at = [&merged](long long position) -> std::optional<ListingId> {
    if (position < 1 || position > static_cast<long long>(merged.size())) return std::nullopt;
    return merged[position - 1].first;
  };
  GateResult result;
  switch (elements[0].integer) {
    case 0:
      if (elements.size() != 1) return std::nullopt;
      result.outcome = GateOutcome::kTaken;
      return result;
    case 1:
      if (elements.size() != 1) return std::nullopt;
      result.outcome = GateOutcome::kAlreadyHeld;
      return result;
    case 2:
      if (elements.size() < 2) return std::nullopt;
      for (std::size_t i = 1; i < elements.size(); ++i) {
        const auto listing = listing_at(elements[i].integer);
        if (!listing) return std::nullopt;
        result.missing.push_back(*listing);
      }
      result.outcome = GateOutcome::kMissing;
      return result;
    case 3:
      if (elements.size() < 3 || elements.size() % 2 != 1) return std::nullopt;
      for (std::size_t i = 1; i + 1 < elements.size(); i += 2) {
        const auto listing = listing_at(elements[i].integer);
        if (!listing) return std::nullopt;
        result.short_of.push_back(StockLevel{*listing, ClampToInt(elements[i + 1].integer)});
      }
      result.outcome = GateOutcome::kRefused;
      return result;
    default:
      return std::nullopt;
  }
}

}  // namespace

RedisStockGate::RedisStockGate(Client& client, StockGateOptions options)
    : client_(client), options_(std::move(options)) {}

std::string RedisStockGate::CounterKey(ListingId listing) const {
  return options_.key_prefix + std::to_string(listing.value);
}

std::string RedisStockGate::HoldKey(std::string_view hold) const {
  std::string key = options_.key_prefix;
  key.append("hold:").append(hold);
  return key;
}

bool RedisStockGate::BreakerOpen() const { return std::chrono::steady_clock::now() < skip_until_; }

Task<std::optional<Reply>> RedisStockGate::Ask(std::string_view what, Task<Reply> request) {
  std::string error;
  try {
    Reply reply = co_await std::move(request);
    if (reply.type != Reply::Type::kError) co_return reply;
    // OOM, READONLY, LOADING, BUSY: Redis answers but cannot do it. Not worth a breaker.
    error = reply.str;
  } catch (const Unavailable& e) {
    skip_until_ = std::chrono::steady_clock::now() + options_.breaker;
    error = e.what();
  } catch (const std::exception& e) {
    error = e.what();
  }
  Warn(what, error);
  co_return std::nullopt;
}

Task<GateResult> RedisStockGate::Take(std::string_view hold, const std::vector<StockWant>& wants,
                                      std::chrono::seconds hold_ttl) {
  GateResult result;
  const auto merged = Merge(wants);
  if (merged.empty()) {
    result.outcome = GateOutcome::kTaken;
    co_return result;
  }
  if (BreakerOpen()) co_return result;

  std::vector<std::string> keys;
  std::vector<std::string> args;
  keys.reserve(merged.size() + 1);
  args.reserve(merged.size() + 1);
  keys.push_back(HoldKey(hold));
  // EXPIRE with 0 or less would delete the hold at once: keep it at least a second.
  args.push_back(std::to_string(std::max<std::int64_t>(hold_ttl.count(), 1)));
  for (const auto& [listing, quantity] : merged) {
    keys.push_back(CounterKey(listing));
    args.push_back(std::to_string(quantity));
  }
  Task<Reply> request = client_.Eval(TakeScript(), std::move(keys), std::move(args));
  std::optional<Reply> reply = co_await Ask("take", std::move(request));
  if (!reply) co_return result;
  std::optional<GateResult> read = ReadTake(*reply, merged);
  if (!read) {
    Warn("take", "unexpected reply");
    co_return result;
  }
  co_return std::move(*read);
}

Task<void> RedisStockGate::Seed(const std::vector<StockLevel>& levels) {
  if (levels.empty() || BreakerOpen()) co_return;
  std::vector<std::string> keys;
  std::vector<std::string> args;
  keys.reserve(levels.size());
  args.reserve(levels.size() + 1);
  args.push_back(std::to_string(std::max<std::int64_t>(options_.counter_ttl.count(), 1)));
  for (const auto& level : levels) {
    keys.push_back(CounterKey(level.listing));
    args.push_back(std::to_string(std::max(level.available, 0)));
  }
  Task<Reply> request = client_.Eval(SeedScript(), std::move(keys), std::move(args));
  co_await Ask("seed", std::move(request));
}

Task<void> RedisStockGate::GiveBack(std::string_view hold) {
  if (BreakerOpen()) co_return;
  std::vector<std::string> keys;
  keys.push_back(HoldKey(hold));
  std::vector<std::string> args;
  Task<Reply> request = client_.Eval(GiveBackScript(), std::move(keys), std::move(args));
  co_await Ask("give back", std::move(request));
}

Task<void> RedisStockGate::Release(const std::vector<StockWant>& wants) {
  const auto merged = Merge(wants);
  if (merged.empty() || BreakerOpen()) co_return;
  std::vector<std::string> keys;
  std::vector<std::string> args;
  keys.reserve(merged.size());
  args.reserve(merged.size());
  for (const auto& [listing, quantity] : merged) {
    keys.push_back(CounterKey(listing));
    args.push_back(std::to_string(quantity));
  }
  Task<Reply> request = client_.Eval(ReleaseScript(), std::move(keys), std::move(args));
  co_await Ask("release", std::move(request));
}

Task<void> RedisStockGate::Invalidate(ListingId listing) {
  if (BreakerOpen()) co_return;
  std::vector<std::string> argv;
  argv.push_back("DEL");
  argv.push_back(CounterKey(listing));
  Task<Reply> request = client_.Command(std::move(argv));
  co_await Ask("invalidate", std::move(request));
}

Task<std::optional<int>> RedisStockGate::Peek(ListingId listing) {
  if (BreakerOpen()) co_return std::nullopt;
  std::vector<std::string> argv;
  argv.push_back("GET");
  argv.push_back(CounterKey(listing));
  Task<Reply> request = client_.Command(std::move(argv));
  std::optional<Reply> reply = co_await Ask("peek", std::move(request));
  if (!reply || reply->type != Reply::Type::kString) co_return std::nullopt;
  std::optional<long long> value = ParseInteger(reply->str);
  if (!value) co_return std::nullopt;
  co_return ClampToInt(*value);
}

Task<std::optional<services::CounterPage>> RedisStockGate::ScanCounters(std::uint64_t cursor,
                                                                        int count) {
  if (BreakerOpen()) co_return std::nullopt;
  std::vector<std::string> argv;
  argv.push_back("SCAN");
  argv.push_back(std::to_string(cursor));
  argv.push_back("MATCH");
  argv.push_back(GlobEscape(options_.key_prefix) + "*");
  argv.push_back("COUNT");
  argv.push_back(std::to_string(std::max(count, 1)));
  Task<Reply> scan = client_.Command(std::move(argv));
  std::optional<Reply> scanned = co_await Ask("scan counters", std::move(scan));
  if (!scanned || scanned->type != Reply::Type::kArray || scanned->elements.size() != 2 ||
      scanned->elements[1].type != Reply::Type::kArray) {
    co_return std::nullopt;
  }
  services::CounterPage page;
  std::optional<long long> next = ParseInteger(scanned->elements[0].str);
  if (!next || *next < 0) co_return std::nullopt;
  page.next_cursor = static_cast<std::uint64_t>(*next);

  // Counter keys are the prefix and a listing id; holds ("<prefix>hold:…") and anything else
  // under the prefix are not counters.
  std::vector<ListingId> listings;
  std::vector<std::string> keys;
  for (const Reply& key : scanned->elements[1].elements) {
    std::string_view name = key.str;
    if (name.size() <= options_.key_prefix.size()) continue;
    name.remove_prefix(options_.key_prefix.size());
    if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    std::optional<long long> id = ParseInteger(name);
    if (!id) continue;
    listings.push_back(ListingId{*id});
    keys.push_back(key.str);
  }
  if (keys.empty()) co_return page;

  std::vector<std::string> mget;
  mget.reserve(keys.size() + 1);
  mget.push_back("MGET");
  for (auto& key : keys) mget.push_back(std::move(key));
  Task<Reply> values = client_.Command(std::move(mget));
  std::optional<Reply> read = co_await Ask("read counters", std::move(values));
  if (!read || read->type != Reply::Type::kArray || read->elements.size() != listings.size()) {
    co_return std::nullopt;
  }
  for (std::size_t i = 0; i < listings.size(); ++i) {
    const Reply& value = read->elements[i];
    if (value.type != Reply::Type::kString) continue;  // gone since the SCAN
    std::optional<long long> parsed = ParseInteger(value.str);
    if (!parsed || *parsed != ClampToInt(*parsed)) continue;  // Take repairs those itself
    page.counters.push_back(StockLevel{listings[i], static_cast<int>(*parsed)});
  }
  co_return page;
}

Task<std::vector<ListingId>> RedisStockGate::DropIfUnchanged(const std::vector<StockLevel>& seen) {
  std::vector<ListingId> dropped;
  if (seen.empty() || BreakerOpen()) co_return dropped;
  std::vector<std::string> keys;
  std::vector<std::string> args;
  keys.reserve(seen.size());
  args.reserve(seen.size());
  for (const auto& level : seen) {
    keys.push_back(CounterKey(level.listing));
    args.push_back(std::to_string(level.available));
  }
  Task<Reply> request = client_.Eval(DropIfUnchangedScript(), std::move(keys), std::move(args));
  std::optional<Reply> reply = co_await Ask("drop drifted counters", std::move(request));
  if (!reply || reply->type != Reply::Type::kArray) co_return dropped;
  for (const Reply& position : reply->elements) {
    if (position.type != Reply::Type::kInteger || position.integer < 1 ||
        position.integer > static_cast<long long>(seen.size())) {
      continue;
    }
    dropped.push_back(seen[position.integer - 1].listing);
  }
  co_return dropped;
}

}  // namespace market::redis
