#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/ids.hpp"
#include "common/task.hpp"

namespace market::services {

struct StockWant {
  ListingId listing;
  int quantity = 0;
};

struct StockLevel {
  ListingId listing;
  int available = 0;  // listings.quantity minus unexpired reservations, as PostgreSQL has it
};

enum class GateOutcome {
  kTaken,        // every want was taken from its counter, recorded under the hold
  kAlreadyHeld,  // a hold of that name exists (a retry of the same checkout): nothing taken
  kRefused,      // some counter is short: nothing taken; `short_of` says which
  kMissing,      // some counter is unknown: nothing taken; `missing` says which (seed, retry)
  kUnavailable,  // Redis could not be asked: nothing known, nothing taken
};

// One page of the counters that exist, for the reconciler.
struct CounterPage {
  std::vector<StockLevel> counters;  // each counter's value as read
  std::uint64_t next_cursor = 0;     // 0 once the last page has been read
};

struct GateResult {
  GateOutcome outcome = GateOutcome::kUnavailable;
  std::vector<StockLevel> short_of;  // kRefused: the short listings with their counters
  std::vector<ListingId> missing;    // kMissing
};

// The fast admission gate in front of checkout: per-listing counters of available stock in Redis,
// changed only by atomic scripts. It admits; PostgreSQL decides. A counter that is too high only
// lets through a checkout that PostgreSQL then refuses; one that is too low refuses early until it
// expires (counters live a few minutes and are re-seeded from PostgreSQL) or is repaired. A
// missing counter is unknown, never 0 and never unlimited. No method throws: when Redis cannot be
// reached, Take answers kUnavailable and the others do nothing (and log), so that checkout goes on
// through PostgreSQL alone.
class StockGate {
 public:
  virtual ~StockGate() = default;

  // All or nothing: takes every want from its counter and records what it took under `hold`
  // (one name per checkout attempt, e.g. buyer and Idempotency-Key), kept for `hold_ttl`.
  virtual Task<GateResult> Take(std::string_view hold, const std::vector<StockWant>& wants,
                                std::chrono::seconds hold_ttl) = 0;
  // Sets counters that do not exist yet (an existing counter is left alone).
  virtual Task<void> Seed(const std::vector<StockLevel>& levels) = 0;
  // Returns what `hold` took to the counters that still exist and forgets the hold: for a
  // checkout that failed after Take.
  virtual Task<void> GiveBack(std::string_view hold) = 0;
  // Adds stock back to the counters that exist (a reservation ended unpaid, a paid order was
  // cancelled and restocked).
  virtual Task<void> Release(const std::vector<StockWant>& wants) = 0;
  // Forgets a listing's counter (its quantity or status changed): the next Take re-seeds it.
  virtual Task<void> Invalidate(ListingId listing) = 0;
  // The counter's value, if it exists and Redis answers: for tests and the reconciler.
  virtual Task<std::optional<int>> Peek(ListingId listing) = 0;

  // For the reconciler: the counters that exist, a page of about `count` from `cursor` (0 for
  // the first page). A counter may appear on two pages. nullopt when Redis cannot be asked. The
  // default (a gate without counters) has none.
  virtual Task<std::optional<CounterPage>> ScanCounters([[maybe_unused]] std::uint64_t cursor,
                                                        [[maybe_unused]] int count) {
    co_return CounterPage();
  }
  // Deletes, atomically, each counter that still holds the value in `seen` (a compare-and-delete:
  // one changed since it was read is left alone) and answers which it deleted. The next Take finds
  // them missing and seeds them from PostgreSQL.
  virtual Task<std::vector<ListingId>> DropIfUnchanged(
      [[maybe_unused]] const std::vector<StockLevel>& seen) {
    co_return std::vector<ListingId>();
  }
};

}  // namespace market::services
