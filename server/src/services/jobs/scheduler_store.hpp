#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "common/clock.hpp"
#include "common/task.hpp"
#include "services/database.hpp"

namespace market::services {

// How an attempt to record a periodic slot ended.
enum class SlotClaim {
  kClaimed,         // recorded: enqueue the slot's job in the same transaction
  kAlreadyClaimed,  // this slot or a later one was recorded before: enqueue nothing
  kNotLeader,       // this session does not hold the leader lock: enqueue nothing
};

// The scheduler's leadership and its record of enqueued slots. Leadership is a lock held by one
// database session, so every call runs on that session: the implementation owns its connection.
// When the session ends (the process died, the connection broke) the database releases the lock
// and another scheduler can take it.
class SchedulerStore {
 public:
  virtual ~SchedulerStore() = default;

  // Takes the leader lock if nobody holds it. True when this session holds it, taken now or
  // before. Throws when the database cannot be reached.
  virtual Task<bool> TryLead() = 0;
  // Whether this session holds the lock. Throws when the session is lost, which has released it.
  virtual Task<bool> Leading() = 0;
  // Gives the lock up at once, for a clean stop.
  virtual Task<void> Resign() = 0;

  // A transaction on the leader session.
  virtual Task<std::unique_ptr<Transaction>> Begin() = 0;
  // In `tx`, only while this session leads: records `slot` as the latest slot of `kind` if it is
  // later than the one recorded. Concurrent claims of one slot wait for each other: one wins.
  virtual Task<SlotClaim> ClaimSlot(Transaction& tx, std::string_view kind, TimePoint slot) = 0;
  // Whether this session leads, in `tx`: fences an enqueue that records no slot.
  virtual Task<bool> Leading(Transaction& tx) = 0;
  // The latest slot recorded for `kind`.
  virtual Task<std::optional<TimePoint>> LastSlot(std::string_view kind) = 0;
};

}  // namespace market::services
