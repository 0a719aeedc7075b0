#include "storage/pg/scheduler_repository.hpp"

#include "storage/pg/params.hpp"

namespace market::pg {
namespace {

// Whether this session holds advisory lock $1. A bigint key is kept as classid (high half) and
// objid (low half) with objsubid 1.
#define MARKET_HOLDS_LEADER_LOCK                                                \
  "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND " \
  "pid = pg_backend_pid() AND objsubid = 1 AND "                                \
  "((classid::bigint << 32) | objid::bigint) = $1)"

// Never taken twice by one session (the count would outlive Resign). The keepalives make the
// server notice within about 20 s a leader whose host vanished without closing its socket, and
// release the lock; the kernel's default is two hours.
constexpr Statement kTryLead{
    "scheduler.try_lead",
    "SELECT set_config('tcp_keepalives_idle', '10', false) AS idle, "
    "set_config('tcp_keepalives_interval', '3', false) AS keepalive_interval, "
    "set_config('tcp_keepalives_count', '3', false) AS keepalive_count, "
    "CASE WHEN " MARKET_HOLDS_LEADER_LOCK
    " THEN true ELSE pg_try_advisory_lock($1) END AS is_leader"};

constexpr Statement kLeading{"scheduler.leading",
                             "SELECT " MARKET_HOLDS_LEADER_LOCK " AS is_leader"};

constexpr Statement kResign{"scheduler.resign", "SELECT pg_advisory_unlock($1) AS released"};

// The compare: ON CONFLICT re-reads the row after a concurrent claim committed, so of two claims
// of one slot the second finds last_slot no longer earlier and records nothing.
constexpr Statement kClaimSlot{
    "scheduler.claim_slot",
    "WITH lead AS (SELECT " MARKET_HOLDS_LEADER_LOCK
    " AS is_leader), "
    "claimed AS (INSERT INTO scheduler_slots AS s (kind, last_slot) "
    "SELECT $2, $3::timestamptz FROM lead WHERE is_leader "
    "ON CONFLICT (kind) DO UPDATE SET last_slot = excluded.last_slot, updated_at = now() "
    "WHERE s.last_slot < excluded.last_slot RETURNING s.kind) "
    "SELECT (SELECT is_leader FROM lead) AS is_leader, EXISTS (SELECT 1 FROM claimed) AS claimed"};

constexpr Statement kLastSlot{"scheduler.last_slot",
                              "SELECT last_slot FROM scheduler_slots WHERE kind = $1"};

}  // namespace

PgSchedulerStore::PgSchedulerStore(boost::asio::any_io_executor executor, std::string conninfo,
                                   std::int64_t lock_key)
    : pool_(std::move(executor), PoolOptions{.conninfo = std::move(conninfo), .max_size = 1}),
      lock_key_(lock_key) {}

Task<bool> PgSchedulerStore::TryLead() {
  QueryResult rows = co_await pool_.Execute(kTryLead, Params(lock_key_));
  co_return rows.Bool(0, "is_leader");
}

Task<bool> PgSchedulerStore::Leading() {
  QueryResult rows = co_await pool_.Execute(kLeading, Params(lock_key_));
  co_return rows.Bool(0, "is_leader");
}

Task<void> PgSchedulerStore::Resign() { co_await pool_.Execute(kResign, Params(lock_key_)); }

Task<std::unique_ptr<services::Transaction>> PgSchedulerStore::Begin() {
  co_return co_await pool_.Begin();
}

Task<services::SlotClaim> PgSchedulerStore::ClaimSlot(services::Transaction& tx,
                                                      std::string_view kind, TimePoint slot) {
  QueryResult rows = co_await AsPg(tx).Execute(kClaimSlot, Params(lock_key_, kind, slot));
  if (!rows.Bool(0, "is_leader")) co_return services::SlotClaim::kNotLeader;
  co_return rows.Bool(0, "claimed") ? services::SlotClaim::kClaimed
                                    : services::SlotClaim::kAlreadyClaimed;
}

Task<bool> PgSchedulerStore::Leading(services::Transaction& tx) {
  QueryResult rows = co_await AsPg(tx).Execute(kLeading, Params(lock_key_));
  co_return rows.Bool(0, "is_leader");
}

Task<std::optional<TimePoint>> PgSchedulerStore::LastSlot(std::string_view kind) {
  QueryResult rows = co_await pool_.Execute(kLastSlot, Params(kind));
  if (rows.empty()) co_return std::nullopt;
  co_return rows.Time(0, "last_slot");
}

}  // namespace market::pg
