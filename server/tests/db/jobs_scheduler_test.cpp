// The scheduler against the real PostgreSQL: one leader at a time through the advisory lock, a
// standby that takes over when the leader stops or its connection dies, and each periodic slot
// enqueued exactly once, even by two schedulers that both lead. Each test uses job kinds and a
// lock key of its own, so that nothing else scheduling against this database interferes.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "db/db_support.hpp"
#include "jobs/scheduler.hpp"
#include "services/jobs/job_queue.hpp"
#include "storage/pg/jobs_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/params.hpp"
#include "storage/pg/pool.hpp"
#include "storage/pg/scheduler_repository.hpp"

namespace market {
namespace {

namespace asio = boost::asio;
using jobs::Schedule;
using jobs::ScheduledJob;
using jobs::Scheduler;
using jobs::SchedulerOptions;
using services::SlotClaim;
using namespace std::chrono_literals;

constexpr pg::Statement kKeysOfKind{
    "test.sched.keys_of_kind", "SELECT unique_key FROM jobs WHERE kind = $1 ORDER BY unique_key"};
constexpr pg::Statement kFinishKind{
    "test.sched.finish_kind",
    "UPDATE jobs SET status = 'succeeded', finished_at = now(), updated_at = now() "
    "WHERE kind = $1 AND status = 'queued'"};
constexpr pg::Statement kKillSession{
    "test.sched.kill_session",
    "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity "
    "WHERE application_name = $1"};

constexpr SchedulerOptions kFast{.tick = 50ms, .standby_retry = 200ms};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint now) : now_(now) {}
  TimePoint Now() const override { return now_; }

 private:
  TimePoint now_;
};

// A scheduler with its own leader session (named, so that a test can kill it), as in a process of
// its own, run on the test's io_context.
struct Contender {
  Contender(asio::io_context& io, std::int64_t lock_key, std::vector<ScheduledJob> jobs,
            const Clock& clock)
      : name("sched-test-" + RandomSuffix()),
        store(io.get_executor(), AddConnParam(TestDatabaseUrl(), "application_name", name),
              lock_key),
        queue(store.pool()),
        scheduler(io.get_executor(), store, queue, std::move(jobs), kFast, clock) {}

  void Start(asio::io_context& io) {
    started = true;
    asio::co_spawn(io, scheduler.Run(), [this](std::exception_ptr e) {
      failure = e;
      finished = true;
    });
  }

  std::string name;
  pg::PgSchedulerStore store;
  pg::PgJobQueue queue;
  Scheduler scheduler;
  bool started = false;
  bool finished = false;
  std::exception_ptr failure;
};

class JobsSchedulerTest : public ::testing::Test {
 protected:
  JobsSchedulerTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 4}),
        queue_(pool_),
        suffix_(RandomSuffix()),
        lock_key_(static_cast<std::int64_t>(std::stoll(suffix_)) + 1'000'000'000'000) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
  }

  ~JobsSchedulerTest() override {
    for (auto& contender : contenders_) {
      if (contender->started && !contender->finished) contender->scheduler.Stop();
    }
    RunUntil([this] { return AllStopped(); }, 10s);
  }

  std::string Kind(std::string_view what) {
    return "test.sched." + suffix_ + "." + std::string(what);
  }

  Contender& Add(std::vector<ScheduledJob> jobs, std::optional<std::int64_t> lock_key = {},
                 const Clock* clock = nullptr) {
    contenders_.push_back(std::make_unique<Contender>(
        io_, lock_key.value_or(lock_key_), std::move(jobs), clock != nullptr ? *clock : clock_));
    return *contenders_.back();
  }

  // Runs io_ until `done` holds; false after `limit`.
  template <class Predicate>
  bool RunUntil(Predicate done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io_.restart();
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_one_for(20ms);
    }
    return true;
  }

  void RunFor(std::chrono::milliseconds duration) {
    RunUntil([] { return false; }, duration);
  }

  void StopAndWait(Contender& contender) {
    contender.scheduler.Stop();
    ASSERT_TRUE(RunUntil([&contender] { return contender.finished; }, 10s)) << "did not stop";
    if (contender.failure) std::rethrow_exception(contender.failure);
  }

  // Standbys first, so that none takes over from a leader stopping before it.
  void StopAll() {
    for (bool leaders : {false, true}) {
      for (auto& contender : contenders_) {
        if (contender->scheduler.leading() == leaders && contender->started &&
            !contender->finished) {
          StopAndWait(*contender);
        }
      }
    }
  }

  bool AllStopped() const {
    return std::all_of(contenders_.begin(), contenders_.end(),
                       [](const auto& c) { return !c->started || c->finished; });
  }

  int Leaders() const {
    return static_cast<int>(std::count_if(contenders_.begin(), contenders_.end(),
                                          [](const auto& c) { return c->scheduler.leading(); }));
  }

  std::vector<std::string> KeysOf(const std::string& kind) {
    pg::QueryResult rows = RunTask(io_, pool_.Execute(kKeysOfKind, pg::Params(kind)));
    std::vector<std::string> keys;
    for (int r = 0; r < rows.size(); ++r) keys.push_back(rows.String(r, "unique_key"));
    return keys;
  }

  void FinishJobsOf(const std::string& kind) {
    RunTask(io_, pool_.Execute(kFinishKind, pg::Params(kind)));
  }

  // Claims `slot` of `kind` through `store` in a transaction of its own and commits.
  SlotClaim Claim(pg::PgSchedulerStore& store, const std::string& kind, TimePoint slot) {
    return RunTask(io_, ClaimAndCommit(store, kind, slot));
  }

  static Task<SlotClaim> ClaimAndCommit(pg::PgSchedulerStore& store, std::string kind,
                                        TimePoint slot) {
    std::unique_ptr<services::Transaction> tx = co_await store.Begin();
    const SlotClaim claim = co_await store.ClaimSlot(*tx, kind, slot);
    co_await tx->Commit();
    co_return claim;
  }

  // The keys of `keys` are `kind`'s keys of consecutive slots of `schedule`, each once, the first
  // of them at most 10 periods after `started`.
  static void ExpectConsecutiveSlots(const std::vector<std::string>& keys, const std::string& kind,
                                     const Schedule& schedule, TimePoint started) {
    ASSERT_FALSE(keys.empty());
    std::set<std::string> distinct(keys.begin(), keys.end());
    EXPECT_EQ(distinct.size(), keys.size()) << "a slot was enqueued twice";
    TimePoint first = schedule.SlotAt(started);
    for (int i = 0; i < 10 && jobs::SlotKey(kind, first) != *distinct.begin(); ++i) {
      first += schedule.period();
    }
    std::set<std::string> expected;
    for (TimePoint slot = first; expected.size() < keys.size(); slot += schedule.period()) {
      expected.insert(jobs::SlotKey(kind, slot));
    }
    EXPECT_EQ(distinct, expected) << "a slot is missing";
  }

  asio::io_context io_;
  pg::Pool pool_;
  pg::PgJobQueue queue_;
  SystemClock clock_;
  std::string suffix_;
  std::int64_t lock_key_;
  std::vector<std::unique_ptr<Contender>> contenders_;
};

std::vector<ScheduledJob> EverySecond(const std::string& kind) {
  std::vector<ScheduledJob> jobs;
  jobs.push_back({.kind = kind, .schedule = Schedule::Every(1s)});
  return jobs;
}

TEST_F(JobsSchedulerTest, TwoSchedulersEnqueueEachSlotExactlyOnce) {
  const std::string every_second = Kind("every-second");
  const std::string at_startup = Kind("at-startup");
  auto schedule = [&] {
    std::vector<ScheduledJob> jobs = EverySecond(every_second);
    jobs.push_back({.kind = at_startup, .schedule = Schedule::DailyAt(3h), .at_startup = true});
    return jobs;
  };
  Contender& a = Add(schedule());
  Contender& b = Add(schedule());
  const TimePoint started = std::chrono::system_clock::now();
  a.Start(io_);
  b.Start(io_);
  ASSERT_TRUE(RunUntil([this] { return Leaders() == 1; }, 10s));
  RunUntil([this] { return Leaders() != 1; }, 4s);
  EXPECT_EQ(Leaders(), 1);
  StopAll();

  const std::vector<std::string> keys = KeysOf(every_second);
  EXPECT_GE(keys.size(), 4u);
  ExpectConsecutiveSlots(keys, every_second, Schedule::Every(1s), started);
  EXPECT_EQ(a.scheduler.terms() + b.scheduler.terms(), 1) << "the lead never changed hands";
  // The daily slot (caught up at once) and the start-up job, each once.
  const std::vector<std::string> expected = {
      jobs::SlotKey(at_startup, Schedule::DailyAt(3h).SlotAt(started)),
      jobs::StartupKey(at_startup)};
  EXPECT_EQ(KeysOf(at_startup), expected);
  EXPECT_EQ(a.scheduler.enqueued() + b.scheduler.enqueued(),
            static_cast<std::int64_t>(keys.size() + 2));
}

TEST_F(JobsSchedulerTest, TwoLeadersStillEnqueueEachSlotOnce) {
  // Two lock keys: both lead, as two schedulers would that each wrongly believed they held the
  // lock, and jobs finish at once. The compare on scheduler_slots alone keeps every slot to one
  // job.
  const std::string kind = Kind("both-lead");
  Contender& a = Add(EverySecond(kind), lock_key_);
  Contender& b = Add(EverySecond(kind), lock_key_ + 1);
  const TimePoint started = std::chrono::system_clock::now();
  a.Start(io_);
  b.Start(io_);
  ASSERT_TRUE(RunUntil([this] { return Leaders() == 2; }, 10s));
  // A fast worker: each job finishes at once, so its unique key stops deduplicating.
  for (int i = 0; i < 40; ++i) {
    RunFor(100ms);
    FinishJobsOf(kind);
  }
  StopAndWait(a);
  StopAndWait(b);

  const std::vector<std::string> keys = KeysOf(kind);
  EXPECT_GE(keys.size(), 4u);
  ExpectConsecutiveSlots(keys, kind, Schedule::Every(1s), started);
  EXPECT_EQ(a.scheduler.enqueued() + b.scheduler.enqueued(),
            static_cast<std::int64_t>(keys.size()));
}

TEST_F(JobsSchedulerTest, ConcurrentClaimsOfOneSlotHaveOneWinner) {
  const std::string kind = Kind("race");
  Contender& a = Add({}, lock_key_);
  Contender& b = Add({}, lock_key_ + 1);
  ASSERT_TRUE(RunTask(io_, a.store.TryLead()));
  ASSERT_TRUE(RunTask(io_, b.store.TryLead()));
  const TimePoint slot = Schedule::Every(1min).SlotAt(std::chrono::system_clock::now());
  std::vector<SlotClaim> claims;
  for (int round = 0; round < 5; ++round) {
    const TimePoint this_slot = slot + round * 1min;
    std::vector<Task<void>> tasks;
    for (Contender* contender : {&a, &b, &a, &b}) {
      tasks.push_back([](Contender* contender, std::string kind, TimePoint slot,
                         std::vector<SlotClaim>& claims) -> Task<void> {
        claims.push_back(co_await ClaimAndCommit(contender->store, kind, slot));
      }(contender, kind, this_slot, claims));
    }
    RunConcurrently(io_, std::move(tasks));
  }
  EXPECT_EQ(std::count(claims.begin(), claims.end(), SlotClaim::kClaimed), 5);
  EXPECT_EQ(std::count(claims.begin(), claims.end(), SlotClaim::kAlreadyClaimed), 15);
  EXPECT_EQ(RunTask(io_, a.store.LastSlot(kind)), slot + 4min);
}

TEST_F(JobsSchedulerTest, FinishedSlotIsNotEnqueuedAgain) {
  const std::string kind = Kind("finished");
  const FixedClock clock(std::chrono::system_clock::now());
  const TimePoint slot = Schedule::Every(1min).SlotAt(clock.Now());
  std::vector<ScheduledJob> jobs;
  jobs.push_back({.kind = kind, .schedule = Schedule::Every(1min)});

  Contender& first = Add(jobs, {}, &clock);
  first.Start(io_);
  ASSERT_TRUE(RunUntil([&first] { return first.scheduler.enqueued() == 1; }, 10s));
  StopAndWait(first);
  // The job ran: its unique key no longer blocks another one.
  FinishJobsOf(kind);

  Contender& second = Add(jobs, {}, &clock);
  second.Start(io_);
  ASSERT_TRUE(RunUntil([&second] { return second.scheduler.leading(); }, 10s));
  RunFor(500ms);
  StopAndWait(second);
  EXPECT_EQ(second.scheduler.enqueued(), 0);
  EXPECT_EQ(KeysOf(kind), std::vector<std::string>{jobs::SlotKey(kind, slot)});

  ASSERT_TRUE(RunTask(io_, second.store.TryLead()));
  EXPECT_EQ(Claim(second.store, kind, slot), SlotClaim::kAlreadyClaimed);
  EXPECT_EQ(Claim(second.store, kind, slot - 1min), SlotClaim::kAlreadyClaimed)
      << "an earlier slot never comes back";
  EXPECT_EQ(Claim(second.store, kind, slot + 1min), SlotClaim::kClaimed);
}

TEST_F(JobsSchedulerTest, StandbyClaimsNothing) {
  const std::string kind = Kind("standby");
  Contender& leader = Add({});
  Contender& standby = Add({});
  ASSERT_TRUE(RunTask(io_, leader.store.TryLead()));
  EXPECT_FALSE(RunTask(io_, standby.store.TryLead()));
  EXPECT_FALSE(RunTask(io_, standby.store.Leading()));
  EXPECT_TRUE(RunTask(io_, leader.store.TryLead())) << "taking it again is still leading";
  const TimePoint now = std::chrono::system_clock::now();
  EXPECT_EQ(Claim(standby.store, kind, now), SlotClaim::kNotLeader);
  EXPECT_FALSE(RunTask(io_, leader.store.LastSlot(kind)).has_value());

  RunTask(io_, leader.store.Resign());
  EXPECT_FALSE(RunTask(io_, leader.store.Leading()))
      << "TryLead never takes the lock twice, so one Resign releases it";
  EXPECT_TRUE(RunTask(io_, standby.store.TryLead()));
  EXPECT_EQ(Claim(standby.store, kind, now), SlotClaim::kClaimed);
}

TEST_F(JobsSchedulerTest, StandbyTakesOverWhenTheLeaderStops) {
  const std::string kind = Kind("startup");
  std::vector<ScheduledJob> jobs;
  jobs.push_back({.kind = kind, .schedule = Schedule::DailyAt(3h), .at_startup = true});
  Contender& a = Add(jobs);
  Contender& b = Add(jobs);
  a.Start(io_);
  b.Start(io_);
  ASSERT_TRUE(RunUntil([this] { return Leaders() == 1; }, 10s));
  RunFor(1s);
  ASSERT_EQ(Leaders(), 1) << "only one leads";
  Contender& leader = a.scheduler.leading() ? a : b;
  Contender& standby = a.scheduler.leading() ? b : a;
  EXPECT_EQ(KeysOf(kind).size(), 2u) << "the daily slot and the start-up job";
  FinishJobsOf(kind);

  const auto stopped = std::chrono::steady_clock::now();
  StopAndWait(leader);
  ASSERT_TRUE(RunUntil([&standby] { return standby.scheduler.leading(); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 3s);
  RunUntil([&standby] { return standby.scheduler.enqueued() > 0; }, 5s);
  EXPECT_EQ(standby.scheduler.enqueued(), 1) << "its own start-up job; the slot was done";
  const std::vector<std::string> keys = KeysOf(kind);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), jobs::StartupKey(kind)), 2);
}

TEST_F(JobsSchedulerTest, StandbyTakesOverWhenTheLeadersConnectionDies) {
  const std::string kind = Kind("killed");
  Contender& a = Add(EverySecond(kind));
  Contender& b = Add(EverySecond(kind));
  a.Start(io_);
  b.Start(io_);
  ASSERT_TRUE(RunUntil([this] { return Leaders() == 1; }, 10s));
  Contender& leader = a.scheduler.leading() ? a : b;
  Contender& standby = a.scheduler.leading() ? b : a;
  RunFor(1500ms);

  ASSERT_EQ(RunTask(io_, pool_.Execute(kKillSession, pg::Params(leader.name))).Int(0, "n"), 1);
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&standby] { return standby.scheduler.leading(); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 3s);
  ASSERT_TRUE(RunUntil([&leader] { return !leader.scheduler.leading(); }, 5s))
      << "the old leader noticed";
  RunFor(2s);
  EXPECT_EQ(Leaders(), 1);
  EXPECT_TRUE(standby.scheduler.leading()) << "the old leader reconnected as a standby";
  StopAll();

  // A slot may pass while nobody leads (the catch-up is the latest slot only), but none twice.
  const std::vector<std::string> keys = KeysOf(kind);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
  EXPECT_GE(keys.size(), 3u);
  EXPECT_GT(standby.scheduler.enqueued(), 0);
  EXPECT_EQ(a.scheduler.enqueued() + b.scheduler.enqueued(),
            static_cast<std::int64_t>(keys.size()));
}

}  // namespace
}  // namespace market
