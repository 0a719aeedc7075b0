#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/orders/stock_gate.hpp"
#include "storage/redis/client.hpp"

namespace market::redis {

struct StockGateOptions {
  // Counters are `<key_prefix><listing id>`, holds `<key_prefix>hold:<hold>`. Tests use their own
  // prefix; everything else keeps the default.
  std::string key_prefix = "stock:";
  // Set when a counter is seeded and kept by every later change: a counter that drifted from
  // PostgreSQL is forgotten after this long and the next checkout re-seeds it.
  std::chrono::milliseconds counter_ttl = std::chrono::minutes(5);
  // After Redis was found unreachable, the gate answers kUnavailable (and does nothing) for this
  // long without asking it, so that an outage costs nothing per request.
  std::chrono::milliseconds breaker = std::chrono::seconds(1);
};

// services::StockGate on per-listing counters in Redis, each change one atomic Lua script. Like
// its Client, one per io thread: not thread-safe.
//
// Wants with a quantity <= 0 are ignored and wants on the same listing are merged, so a Take
// whose wants are all ignored is kTaken without asking Redis (and records no hold). A Take that
// times out may still have run on the server, so a checkout that fails after kUnavailable should
// GiveBack its hold anyway (a hold that does not exist is a no-op).
class RedisStockGate final : public services::StockGate {
 public:
  explicit RedisStockGate(Client& client, StockGateOptions options = {});

  Task<services::GateResult> Take(std::string_view hold,
                                  const std::vector<services::StockWant>& wants,
                                  std::chrono::seconds hold_ttl) override;
  Task<void> Seed(const std::vector<services::StockLevel>& levels) override;
  Task<void> GiveBack(std::string_view hold) override;
  Task<void> Release(const std::vector<services::StockWant>& wants) override;
  Task<void> Invalidate(ListingId listing) override;
  Task<std::optional<int>> Peek(ListingId listing) override;
  // SCAN over the counter keys (holds skipped), then MGET of their values.
  Task<std::optional<services::CounterPage>> ScanCounters(std::uint64_t cursor, int count) override;
  Task<std::vector<ListingId>> DropIfUnchanged(
      const std::vector<services::StockLevel>& seen) override;

 private:
  std::string CounterKey(ListingId listing) const;
  std::string HoldKey(std::string_view hold) const;
  bool BreakerOpen() const;
  // Awaits `request`; nullopt (after a warning) when Redis could not be asked or answered with an
  // error. Opens the breaker when Redis was unreachable. Never throws.
  Task<std::optional<Reply>> Ask(std::string_view what, Task<Reply> request);

  Client& client_;
  StockGateOptions options_;
  std::chrono::steady_clock::time_point skip_until_{};
};

}  // namespace market::redis
