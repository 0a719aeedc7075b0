#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "services/jobs/scheduler_store.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

// The key of the session-level advisory lock that makes a scheduler the leader.
inline constexpr std::int64_t kSchedulerLockKey = 7884523366934734707;

// The scheduler's leader session: a pool of exactly one connection, so that the lock, the slot
// claims and the enqueues all run on the session that holds the lock. Every claim checks in the
// same statement that this session still holds it, so a scheduler whose connection was replaced
// (and with it its lock lost) enqueues nothing.
class PgSchedulerStore final : public services::SchedulerStore {
 public:
  // `lock_key` is for tests that need schedulers which do not exclude each other.
  PgSchedulerStore(boost::asio::any_io_executor executor, std::string conninfo,
                   std::int64_t lock_key = kSchedulerLockKey);

  Task<bool> TryLead() override;
  Task<bool> Leading() override;
  Task<void> Resign() override;
  Task<std::unique_ptr<services::Transaction>> Begin() override;
  Task<services::SlotClaim> ClaimSlot(services::Transaction& tx, std::string_view kind,
                                      TimePoint slot) override;
  Task<bool> Leading(services::Transaction& tx) override;
  Task<std::optional<TimePoint>> LastSlot(std::string_view kind) override;

  // The leader session, for the JobQueue that enqueues in this store's transactions.
  Pool& pool() { return pool_; }

 private:
  Pool pool_;
  std::int64_t lock_key_;
};

}  // namespace market::pg
