// `marketplace scheduler` as processes: of two, one leads; SIGKILL the leader and the standby
// takes over within seconds; SIGTERM gives the lead up and exits 0. Each process's leader session
// is named through PGAPPNAME, so the test reads who holds the lock from pg_locks.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "db/child_process.hpp"
#include "db/db_support.hpp"
#include "jobs/scheduler.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/params.hpp"
#include "storage/pg/pool.hpp"
#include "storage/pg/scheduler_repository.hpp"

namespace market {
namespace {

using namespace std::chrono_literals;

// The application name of the session holding the scheduler's lock in this database, if any.
constexpr pg::Statement kLockHolder{
    "test.sched_process.lock_holder",
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND "
    "l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
    "((l.classid::bigint << 32) | l.objid::bigint) = $1"};
constexpr pg::Statement kStartupJob{
    "test.sched_process.startup_job",
    "SELECT id FROM jobs WHERE unique_key = $1 AND status = 'queued' AND created_at >= $2"};
// So that the next leader's start-up job is not deduplicated against it.
constexpr pg::Statement kFinishStartupJobs{
    "test.sched_process.finish_startup",
    "UPDATE jobs SET status = 'succeeded', finished_at = now(), updated_at = now() "
    "WHERE unique_key = $1 AND status = 'queued'"};
// Slot keys enqueued more than once since $1 (start-up keys recur by design: one per term).
constexpr pg::Statement kDuplicateSlots{
    "test.sched_process.duplicates",
    "SELECT count(*) AS n FROM (SELECT unique_key FROM jobs WHERE unique_key LIKE 'sched:%' AND "
    "unique_key NOT LIKE '%:startup' AND created_at >= $1 GROUP BY unique_key "
    "HAVING count(*) > 1) AS twice"};
constexpr pg::Statement kDropQueuedJobs{
    "test.sched_process.drop_jobs",
    "DELETE FROM jobs WHERE unique_key LIKE 'sched:%' AND status = 'queued' AND created_at >= $1"};
constexpr pg::Statement kDropSlots{"test.sched_process.drop_slots",
                                   "DELETE FROM scheduler_slots WHERE updated_at >= $1"};

// A `marketplace scheduler` child process named `name` (its application_name in PostgreSQL).
class SchedulerProcess : public ChildProcess {
 public:
  explicit SchedulerProcess(const std::string& name)
      : ChildProcess("scheduler",
                     {"SCHEDULER_TICK=1s", "SCHEDULER_STANDBY_RETRY=1s", "LOG_LEVEL=info",
                      "PGAPPNAME=" + name},
                     "jobs_scheduler_process.log"),
        name_(name) {}

  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

class JobsSchedulerProcessTest : public ::testing::Test {
 protected:
  JobsSchedulerProcessTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 2}),
        started_(std::chrono::system_clock::now()) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
    // One left pending by an earlier scheduler would keep the leaders here from adding theirs.
    RunTask(io_,
            pool_.Execute(kFinishStartupJobs, pg::Params(jobs::StartupKey("reconcile_stock"))));
  }

  // What the schedulers enqueued is left to no worker here: it goes, and so do their slots.
  ~JobsSchedulerProcessTest() override {
    RunTask(io_, pool_.Execute(kDropQueuedJobs, pg::Params(started_)));
    RunTask(io_, pool_.Execute(kDropSlots, pg::Params(started_)));
  }

  std::optional<std::string> LockHolder() {
    pg::QueryResult rows =
        RunTask(io_, pool_.Execute(kLockHolder, pg::Params(pg::kSchedulerLockKey)));
    if (rows.empty()) return std::nullopt;
    return rows.String(0, "application_name");
  }

  // Polls until `done` holds; false after `limit`.
  template <class Predicate>
  bool PollUntil(Predicate done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  std::optional<std::int64_t> StartupJob() {
    pg::QueryResult rows = RunTask(
        io_, pool_.Execute(kStartupJob, pg::Params(jobs::StartupKey("reconcile_stock"), started_)));
    if (rows.empty()) return std::nullopt;
    return rows.Int(0, "id");
  }

  boost::asio::io_context io_;
  pg::Pool pool_;
  TimePoint started_;
};

TEST_F(JobsSchedulerProcessTest, StandbyTakesOverWhenTheLeaderIsKilled) {
  const std::string suffix = RandomSuffix();
  std::optional<SchedulerProcess> first(std::in_place, "sched-process-a-" + suffix);
  std::optional<SchedulerProcess> second(std::in_place, "sched-process-b-" + suffix);
  std::optional<std::string> holder;
  ASSERT_TRUE(PollUntil([&] { return (holder = LockHolder()).has_value(); }, 15s));
  ASSERT_TRUE(*holder == first->name() || *holder == second->name()) << *holder;
  ASSERT_TRUE(PollUntil([&] { return StartupJob().has_value(); }, 10s))
      << "the leader enqueues reconcile_stock at start-up";
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(LockHolder(), holder) << "the standby did not take the lock meanwhile";

  RunTask(io_, pool_.Execute(kFinishStartupJobs, pg::Params(jobs::StartupKey("reconcile_stock"))));
  std::optional<SchedulerProcess>& leader = *holder == first->name() ? first : second;
  std::optional<SchedulerProcess>& standby = *holder == first->name() ? second : first;
  leader->Signal(SIGKILL);
  EXPECT_EQ(leader->Wait(), 128 + SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(PollUntil([&] { return LockHolder() == standby->name(); }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 5s);
  EXPECT_TRUE(PollUntil([&] { return StartupJob().has_value(); }, 10s))
      << "the new leader enqueues its own start-up job";

  standby->Signal(SIGTERM);
  EXPECT_EQ(standby->Wait(), 0);
  EXPECT_FALSE(LockHolder().has_value()) << "the lead was given up";
  EXPECT_EQ(RunTask(io_, pool_.Execute(kDuplicateSlots, pg::Params(started_))).Int(0, "n"), 0);
}

TEST_F(JobsSchedulerProcessTest, SigtermHandsTheLeadOverAtOnce) {
  const std::string suffix = RandomSuffix();
  SchedulerProcess leader("sched-process-leader-" + suffix);
  ASSERT_TRUE(PollUntil([&] { return LockHolder() == leader.name(); }, 15s));
  SchedulerProcess standby("sched-process-standby-" + suffix);
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(LockHolder(), leader.name());

  leader.Signal(SIGTERM);
  EXPECT_EQ(leader.Wait(), 0);
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(PollUntil([&] { return LockHolder() == standby.name(); }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 3s);
  standby.Signal(SIGTERM);
  EXPECT_EQ(standby.Wait(), 0);
}

}  // namespace
}  // namespace market
