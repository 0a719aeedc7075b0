// The durable job queue against the real PostgreSQL: transactional enqueue, deduplication,
// claims that never hand one job to two workers, leases that outlive dead workers, retries with
// backoff into dead and back, LISTEN/NOTIFY wake-ups and a graceful stop. Each test uses job
// kinds of its own, so that its workers never touch another test's jobs.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "db/db_support.hpp"
#include "jobs/worker.hpp"
#include "services/jobs/job_queue.hpp"
#include "storage/pg/jobs_repository.hpp"
#include "storage/pg/listener.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/params.hpp"
#include "storage/pg/pool.hpp"

namespace market {
namespace {

namespace asio = boost::asio;
using jobs::JobContext;
using jobs::JobHandler;
using jobs::JobMetrics;
using jobs::Worker;
using jobs::WorkerOptions;
using services::Job;
using services::JobOutcome;
using services::JobStatus;
using services::NewJob;
using namespace std::chrono_literals;

// Every run of a test handler, recorded by the handler itself: what actually ran, and when.
constexpr pg::Statement kCreateRuns{
    "test.jobs.create_runs",
    "CREATE TABLE IF NOT EXISTS jobs_test_runs (job_id bigint NOT NULL, kind text NOT NULL, "
    "worker text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())"};
constexpr pg::Statement kRecordRun{
    "test.jobs.record_run",
    "INSERT INTO jobs_test_runs (job_id, kind, worker) VALUES ($1, $2, $3)"};
constexpr pg::Statement kRunStats{
    "test.jobs.run_stats",
    "SELECT count(*) AS runs, count(DISTINCT job_id) AS jobs, count(DISTINCT worker) AS workers "
    "FROM jobs_test_runs WHERE kind = $1"};
constexpr pg::Statement kRunTimes{
    "test.jobs.run_times",
    "SELECT (extract(epoch FROM at) * 1000000)::bigint AS us FROM jobs_test_runs "
    "WHERE job_id = $1 ORDER BY at"};
constexpr pg::Statement kKindStatus{
    "test.jobs.kind_status",
    "SELECT count(*) FILTER (WHERE status = 'succeeded') AS succeeded, "
    "count(*) FILTER (WHERE status = 'succeeded' AND attempts = 1) AS first_time, "
    "count(*) AS total FROM jobs WHERE kind = $1"};

struct RunStats {
  std::int64_t runs = 0;
  std::int64_t jobs = 0;
  std::int64_t workers = 0;
};

// A handler's body: records the run, waits `hold`, then fails while `failing` says so.
struct Recording {
  pg::Pool* pool = nullptr;
  std::string worker;
  std::chrono::milliseconds hold{0};
  std::shared_ptr<std::atomic<bool>> failing;
  bool permanent = false;
};

Task<void> RecordRun(Recording recording, const Job& job) {
  std::vector<pg::Param> params = pg::Params(job.id, job.kind, recording.worker);
  co_await recording.pool->Execute(kRecordRun, std::move(params));
  if (recording.hold > 0ms) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(recording.hold);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  if (recording.failing && recording.failing->load()) {
    if (recording.permanent) throw jobs::PermanentFailure("cannot ever work");
    throw std::runtime_error("failed on purpose");
  }
}

JobHandler Recorder(Recording recording) {
  return [recording](JobContext& context) { return RecordRun(recording, context.job); };
}

WorkerOptions FastOptions(std::string name) {
  return WorkerOptions{.name = std::move(name),
                       .concurrency = 4,
                       .poll_interval = 20ms,
                       .lease = 5s,
                       .backoff = BackoffPolicy{.base = 40ms, .max = 400ms}};
}

Task<void> Pause(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// A handler that knows when its work can succeed: not within the hour.
Task<void> ComeBackInAnHour(JobContext&) {
  co_await Pause(1ms);
  throw jobs::RetryLater("not before an hour", std::chrono::hours(1));
}

// A worker with its own io thread, PostgreSQL pool and queue, as in a process of its own.
class WorkerThread {
 public:
  WorkerThread(std::string name, const std::string& kind, JobMetrics& metrics)
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 6}),
        queue_(pool_) {
    handlers_.Add(kind, Recorder(Recording{.pool = &pool_, .worker = name}));
    worker_ = std::make_unique<Worker>(io_.get_executor(), queue_, handlers_,
                                       FastOptions(std::move(name)), metrics);
    asio::co_spawn(io_, worker_->Run(), [this](std::exception_ptr e) {
      failure_ = e;
      io_.stop();
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~WorkerThread() { StopAndJoin(); }

  void StopAndJoin() {
    if (!thread_.joinable()) return;
    worker_->Stop();
    thread_.join();
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  asio::io_context io_{1};
  pg::Pool pool_;
  pg::PgJobQueue queue_;
  jobs::HandlerRegistry handlers_;
  std::unique_ptr<Worker> worker_;
  std::exception_ptr failure_;
  std::thread thread_;
};

class JobsQueueTest : public ::testing::Test {
 protected:
  JobsQueueTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 8}),
        queue_(pool_),
        kind_("test.jobs." + RandomSuffix()) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
    RunTask(io_, pool_.Execute(kCreateRuns, pg::NoParams()));
  }

  NewJob JobOf(std::string kind, std::string payload = "{}") {
    return NewJob{.kind = std::move(kind), .payload = std::move(payload)};
  }

  std::int64_t Enqueue(const NewJob& job) {
    std::optional<std::int64_t> id = RunTask(io_, queue_.Enqueue(job));
    if (!id) throw std::runtime_error("enqueue was deduplicated");
    return *id;
  }

  Job Get(std::int64_t id) {
    std::optional<Job> job = RunTask(io_, queue_.Find(id));
    if (!job) throw std::runtime_error("job " + std::to_string(id) + " not found");
    return *job;
  }

  RunStats Runs(const std::string& kind) {
    pg::QueryResult rows = RunTask(io_, pool_.Execute(kRunStats, pg::Params(kind)));
    return RunStats{.runs = rows.Int(0, "runs"),
                    .jobs = rows.Int(0, "jobs"),
                    .workers = rows.Int(0, "workers")};
  }

  std::vector<std::int64_t> RunTimesUs(std::int64_t id) {
    pg::QueryResult rows = RunTask(io_, pool_.Execute(kRunTimes, pg::Params(id)));
    std::vector<std::int64_t> times;
    for (int r = 0; r < rows.size(); ++r) times.push_back(rows.Int(r, "us"));
    return times;
  }

  Task<bool> HasStatus(std::int64_t id, JobStatus status) {
    std::optional<Job> job = co_await queue_.Find(id);
    co_return job && job->status == status;
  }

  // Failed once and queued again.
  Task<bool> Retried(std::int64_t id) {
    std::optional<Job> job = co_await queue_.Find(id);
    co_return job && job->status == JobStatus::kQueued && job->attempts == 1;
  }

  Task<bool> AllSucceeded(std::string kind, std::int64_t count) {
    pg::QueryResult rows = co_await pool_.Execute(kKindStatus, pg::Params(kind));
    co_return rows.Int(0, "succeeded") == count;
  }

  // Checks `done` every 20 ms on io_ until it holds; fails the test after `limit`.
  void WaitFor(const std::function<Task<bool>()>& done, std::chrono::seconds limit = 30s) {
    RunTask(io_, PollUntil(done, limit), limit + 5s);
  }

  static Task<void> PollUntil(const std::function<Task<bool>()>& done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!co_await done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("condition not reached in time");
      }
      co_await Pause(20ms);
    }
  }

  // Runs `worker` on io_ until `done`, then stops it and waits until Run() has returned.
  void RunWorkerUntil(Worker& worker, const std::function<Task<bool>()>& done) {
    bool finished = false;
    std::exception_ptr failure;
    asio::co_spawn(io_, worker.Run(), [&finished, &failure](std::exception_ptr e) {
      failure = e;
      finished = true;
    });
    WaitFor(done);
    worker.Stop();
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!finished && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_until(deadline);
    }
    ASSERT_TRUE(finished) << "the worker did not stop";
    if (failure) std::rethrow_exception(failure);
  }

  // A worker on io_ whose handler for `kind` records its runs.
  std::unique_ptr<Worker> MakeWorker(jobs::HandlerRegistry& handlers, const std::string& name,
                                     WorkerOptions options) {
    options.name = name;
    return std::make_unique<Worker>(io_.get_executor(), queue_, handlers, std::move(options),
                                    metrics_);
  }

  // Runs a worker named recording.worker, whose handler for kind_ records each run, until job
  // `id` is `until`.
  void RunRecorderUntil(std::int64_t id, JobStatus until, Recording recording) {
    recording.pool = &pool_;
    jobs::HandlerRegistry handlers;
    handlers.Add(kind_, Recorder(recording));
    auto worker = MakeWorker(handlers, recording.worker, FastOptions(""));
    RunWorkerUntil(*worker, [this, id, until] { return HasStatus(id, until); });
  }

  asio::io_context io_;
  pg::Pool pool_;
  pg::PgJobQueue queue_;
  std::string kind_;
  JobMetrics metrics_;
};

TEST_F(JobsQueueTest, JobEnqueuedInARolledBackTransactionNeverRuns) {
  std::int64_t rolled_back = 0;
  {
    std::unique_ptr<services::Transaction> tx = RunTask(io_, pool_.Begin());
    rolled_back = RunTask(io_, queue_.Enqueue(*tx, JobOf(kind_))).value();
  }
  std::unique_ptr<services::Transaction> tx = RunTask(io_, pool_.Begin());
  const std::int64_t committed = RunTask(io_, queue_.Enqueue(*tx, JobOf(kind_))).value();
  RunTask(io_, tx->Commit());

  RunRecorderUntil(committed, JobStatus::kSucceeded, Recording{.worker = "w"});

  EXPECT_FALSE(RunTask(io_, queue_.Find(rolled_back)).has_value());
  EXPECT_EQ(Runs(kind_).runs, 1);
  EXPECT_EQ(RunTimesUs(committed).size(), 1u);
  EXPECT_TRUE(RunTimesUs(rolled_back).empty());
}

TEST_F(JobsQueueTest, CommittedJobsRunExactlyOnceAcrossFourCompetingWorkers) {
  constexpr int kJobs = 1000;
  std::set<std::int64_t> ids;
  {
    std::unique_ptr<services::Transaction> tx = RunTask(io_, pool_.Begin());
    for (int i = 0; i < kJobs; ++i) {
      NewJob job = JobOf(kind_, "{\"n\":" + std::to_string(i) + "}");
      ids.insert(RunTask(io_, queue_.Enqueue(*tx, job)).value());
    }
    RunTask(io_, tx->Commit());
  }
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(kJobs));

  JobMetrics metrics;
  std::vector<std::unique_ptr<WorkerThread>> workers;
  for (int w = 0; w < 4; ++w) {
    workers.push_back(std::make_unique<WorkerThread>("w" + std::to_string(w), kind_, metrics));
  }
  WaitFor([this] { return AllSucceeded(kind_, kJobs); }, 120s);
  for (auto& worker : workers) worker->StopAndJoin();

  const RunStats runs = Runs(kind_);
  EXPECT_EQ(runs.runs, kJobs);
  EXPECT_EQ(runs.jobs, kJobs);
  EXPECT_GE(runs.workers, 2) << "the workers did not compete";
  pg::QueryResult status = RunTask(io_, pool_.Execute(kKindStatus, pg::Params(kind_)));
  EXPECT_EQ(status.Int(0, "first_time"), kJobs);
  EXPECT_EQ(metrics.count(kind_, JobMetrics::Ended::kSucceeded), static_cast<std::uint64_t>(kJobs));
  EXPECT_EQ(metrics.running(kind_), 0);
}

TEST_F(JobsQueueTest, UniqueKeyDeduplicatesPendingJobsOnly) {
  NewJob job = JobOf(kind_);
  job.unique_key = kind_ + ":slot-1";
  const std::int64_t first = Enqueue(job);
  EXPECT_FALSE(RunTask(io_, queue_.Enqueue(job)).has_value()) << "queued: deduplicated";

  std::vector<Job> claimed =
      RunTask(io_, queue_.Claim("owner", std::vector<std::string>{kind_}, 10, 5000ms));
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, first);
  EXPECT_FALSE(RunTask(io_, queue_.Enqueue(job)).has_value()) << "running: deduplicated";

  JobOutcome done{.kind = JobOutcome::Kind::kSucceeded};
  EXPECT_EQ(RunTask(io_, queue_.Finish(first, "owner", done)), JobStatus::kSucceeded);
  const std::int64_t second = Enqueue(job);
  EXPECT_NE(second, first) << "the key is free once its job finished";

  NewJob other = JobOf(kind_);
  other.unique_key = kind_ + ":slot-2";
  EXPECT_NE(Enqueue(other), second);
}

TEST_F(JobsQueueTest, FailingJobRetriesWithBackoffThenDiesAndRetryBringsItBack) {
  auto failing = std::make_shared<std::atomic<bool>>(true);
  NewJob job = JobOf(kind_);
  job.max_attempts = 3;
  const std::int64_t id = Enqueue(job);

  RunRecorderUntil(id, JobStatus::kDead, Recording{.worker = "w", .failing = failing});
  Job dead = Get(id);
  EXPECT_EQ(dead.attempts, 3);
  EXPECT_EQ(dead.last_error, "failed on purpose");
  EXPECT_TRUE(dead.finished_at.has_value());
  EXPECT_FALSE(dead.lease_owner.has_value());
  // Each wait at least half its step: base 40 ms, then 80 ms.
  std::vector<std::int64_t> times = RunTimesUs(id);
  ASSERT_EQ(times.size(), 3u);
  EXPECT_GE(times[1] - times[0], 20'000);
  EXPECT_GE(times[2] - times[1], 40'000);
  EXPECT_EQ(metrics_.count(kind_, JobMetrics::Ended::kFailed), 2u);
  EXPECT_EQ(metrics_.count(kind_, JobMetrics::Ended::kDead), 1u);

  std::vector<Job> dead_list = RunTask(
      io_, queue_.List(services::JobListQuery{.statuses = {JobStatus::kDead}, .kind = kind_}));
  ASSERT_EQ(dead_list.size(), 1u);
  EXPECT_EQ(dead_list[0].id, id);

  Result<Job> retried = RunTask(io_, queue_.Retry(id));
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->status, JobStatus::kQueued);
  EXPECT_EQ(retried->attempts, 0);
  failing->store(false);
  RunRecorderUntil(id, JobStatus::kSucceeded, Recording{.worker = "w2", .failing = failing});
  EXPECT_EQ(Get(id).attempts, 1);
  EXPECT_EQ(RunTimesUs(id).size(), 4u);
}

TEST_F(JobsQueueTest, PermanentFailureIsDeadAtOnce) {
  auto failing = std::make_shared<std::atomic<bool>>(true);
  const std::int64_t id = Enqueue(JobOf(kind_));
  RunRecorderUntil(id, JobStatus::kDead,
                   Recording{.worker = "w", .failing = failing, .permanent = true});
  EXPECT_EQ(Get(id).attempts, 1);
  EXPECT_EQ(Get(id).last_error, "cannot ever work");
}

TEST_F(JobsQueueTest, RetryLaterComesBackAfterTheHandlersDelayNotTheBackoff) {
  const std::int64_t id = Enqueue(JobOf(kind_));
  jobs::HandlerRegistry handlers;
  handlers.Add(kind_, ComeBackInAnHour);
  auto worker = MakeWorker(handlers, "w", FastOptions(""));
  RunWorkerUntil(*worker, [this, id] { return Retried(id); });
  const Job job = Get(id);
  EXPECT_EQ(job.last_error, "not before an hour");
  const auto wait = job.run_at - std::chrono::system_clock::now();
  EXPECT_GT(wait, std::chrono::minutes(59));
  EXPECT_LT(wait, std::chrono::minutes(61));
}

TEST_F(JobsQueueTest, RetryRefusesUnknownRunningAndDuplicateJobs) {
  Result<Job> unknown = RunTask(io_, queue_.Retry(std::numeric_limits<std::int64_t>::max()));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

  NewJob job = JobOf(kind_);
  job.unique_key = kind_ + ":once";
  job.max_attempts = 1;
  const std::int64_t id = Enqueue(job);
  RunTask(io_, queue_.Claim("owner", std::vector<std::string>{kind_}, 1, 5000ms));
  Result<Job> running = RunTask(io_, queue_.Retry(id));
  ASSERT_FALSE(running.ok());
  EXPECT_EQ(running.error().code, ErrorCode::kConflict);

  JobOutcome failed{.kind = JobOutcome::Kind::kRetry, .error = "boom", .retry_in = 10ms};
  EXPECT_EQ(RunTask(io_, queue_.Finish(id, "owner", failed)), JobStatus::kDead)
      << "a retry on the last attempt is dead";
  const std::int64_t replacement = Enqueue(job);
  Result<Job> duplicate = RunTask(io_, queue_.Retry(id));
  ASSERT_FALSE(duplicate.ok()) << "job " << replacement << " holds the unique key";
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Get(id).status, JobStatus::kDead);
}

TEST_F(JobsQueueTest, InvalidJobsAreRefusedBeforeReachingTheDatabase) {
  EXPECT_THROW(RunTask(io_, queue_.Enqueue(JobOf("Not A Kind"))), std::invalid_argument);
  EXPECT_THROW(RunTask(io_, queue_.Enqueue(JobOf(kind_, "{not json"))), std::invalid_argument);
  NewJob job = JobOf(kind_);
  job.max_attempts = 0;
  EXPECT_THROW(RunTask(io_, queue_.Enqueue(job)), std::invalid_argument);
  EXPECT_TRUE(RunTask(io_, queue_.List(services::JobListQuery{.kind = kind_})).empty());
}

TEST_F(JobsQueueTest, ExpiredLeaseIsTakenOverByAnotherWorker) {
  const std::int64_t id = Enqueue(JobOf(kind_));
  // A worker claims the job and dies (SIGKILL): no heartbeat, no outcome.
  std::vector<Job> claimed =
      RunTask(io_, queue_.Claim("dead-worker", std::vector<std::string>{kind_}, 1, 300ms));
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_TRUE(
      RunTask(io_, queue_.Claim("other", std::vector<std::string>{kind_}, 1, 300ms)).empty())
      << "leased: nobody else gets it";

  RunRecorderUntil(id, JobStatus::kSucceeded, Recording{.worker = "heir"});
  Job done = Get(id);
  EXPECT_EQ(done.attempts, 2);
  EXPECT_EQ(done.last_error, "the lease of dead-worker expired during attempt 1");
  EXPECT_EQ(Runs(kind_).runs, 1);

  JobOutcome late{.kind = JobOutcome::Kind::kSucceeded};
  EXPECT_FALSE(RunTask(io_, queue_.Finish(id, "dead-worker", late)).has_value());
  EXPECT_FALSE(RunTask(io_, queue_.Heartbeat(id, "dead-worker", 1000ms)));
}

TEST_F(JobsQueueTest, ExpiredLeaseOnTheLastAttemptIsBuriedAsDead) {
  NewJob job = JobOf(kind_);
  job.max_attempts = 1;
  const std::int64_t id = Enqueue(job);
  RunTask(io_, queue_.Claim("dead-worker", std::vector<std::string>{kind_}, 1, 100ms));

  RunRecorderUntil(id, JobStatus::kDead, Recording{.worker = "heir"});
  Job dead = Get(id);
  EXPECT_EQ(dead.attempts, 1);
  EXPECT_NE(dead.last_error.value_or("").find("lease of dead-worker expired"), std::string::npos)
      << dead.last_error.value_or("");
  EXPECT_EQ(Runs(kind_).runs, 0);
  EXPECT_EQ(metrics_.count(kind_, JobMetrics::Ended::kDead), 1u);
}

TEST_F(JobsQueueTest, HeartbeatsKeepALongJobFromBeingTakenOver) {
  const std::int64_t id = Enqueue(JobOf(kind_));
  jobs::HandlerRegistry handlers;
  handlers.Add(kind_, Recorder(Recording{.pool = &pool_, .worker = "w", .hold = 2500ms}));
  WorkerOptions options = FastOptions("");
  options.lease = 1000ms;
  auto first = MakeWorker(handlers, "first", options);
  auto second = MakeWorker(handlers, "second", options);
  bool second_done = false;
  asio::co_spawn(io_, second->Run(), [&second_done](std::exception_ptr) { second_done = true; });
  RunWorkerUntil(*first, [this, id] { return HasStatus(id, JobStatus::kSucceeded); });
  second->Stop();
  WaitFor([&second_done]() -> Task<bool> { co_return second_done; });

  EXPECT_EQ(Get(id).attempts, 1) << "two and a half leases long, yet never taken over";
  EXPECT_EQ(Runs(kind_).runs, 1);
}

TEST_F(JobsQueueTest, StopFinishesRunningJobsBeforeReturning) {
  const std::int64_t id = Enqueue(JobOf(kind_));
  // Stops as soon as the job is running; Run() must still return only after it succeeded.
  RunRecorderUntil(id, JobStatus::kRunning, Recording{.worker = "w", .hold = 500ms});
  EXPECT_EQ(Get(id).status, JobStatus::kSucceeded);
  EXPECT_EQ(Runs(kind_).runs, 1);
}

TEST_F(JobsQueueTest, ListenerHearsOnlyCommittedEnqueues) {
  std::mutex mutex;
  std::vector<std::string> heard;
  pg::Listener listener(TestDatabaseUrl(), std::string(pg::kJobsChannel),
                        [&mutex, &heard](std::string_view payload) {
                          std::lock_guard lock(mutex);
                          heard.emplace_back(payload);
                        });
  listener.Start();
  WaitFor([&listener]() -> Task<bool> { co_return listener.listening(); });

  const std::string rolled_back_kind = kind_ + ".rolled-back";
  {
    std::unique_ptr<services::Transaction> tx = RunTask(io_, pool_.Begin());
    RunTask(io_, queue_.Enqueue(*tx, JobOf(rolled_back_kind)));
  }
  std::unique_ptr<services::Transaction> tx = RunTask(io_, pool_.Begin());
  RunTask(io_, queue_.Enqueue(*tx, JobOf(kind_)));
  RunTask(io_, queue_.Enqueue(*tx, JobOf(kind_)));
  RunTask(io_, tx->Commit());

  auto count = [&mutex, &heard](const std::string& kind) {
    std::lock_guard lock(mutex);
    return std::count(heard.begin(), heard.end(), kind);
  };
  WaitFor([&count, this]() -> Task<bool> { co_return count(kind_) > 0; });
  listener.Stop();
  // Notifications arrive in commit order: the rolled-back one would have come first.
  EXPECT_EQ(count(rolled_back_kind), 0);
  EXPECT_EQ(count(kind_), 1) << "one notification per kind and transaction";
}

TEST_F(JobsQueueTest, ListenerReconnectsWhenItsConnectionIsKilled) {
  const std::string name = "jobs-test-listener-" + RandomSuffix();
  std::atomic<int> wakes{0};
  std::mutex mutex;
  std::vector<std::string> heard;
  pg::Listener listener(AddConnParam(TestDatabaseUrl(), "application_name", name),
                        std::string(pg::kJobsChannel),
                        [&wakes, &mutex, &heard](std::string_view payload) {
                          std::lock_guard lock(mutex);
                          if (payload.empty()) ++wakes;
                          heard.emplace_back(payload);
                        });
  listener.Start();
  WaitFor([&listener]() -> Task<bool> { co_return listener.listening(); });
  ASSERT_EQ(wakes.load(), 1);

  const pg::Statement kill{"test.jobs.kill_listener",
                           "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity "
                           "WHERE application_name = $1"};
  ASSERT_EQ(RunTask(io_, pool_.Execute(kill, pg::Params(name))).Int(0, "n"), 1);
  // Connected again: it says so with a wake-up, for what it may have missed meanwhile.
  WaitFor([&wakes, &listener]() -> Task<bool> { co_return wakes >= 2 && listener.listening(); });

  Enqueue(JobOf(kind_));
  WaitFor([&mutex, &heard, this]() -> Task<bool> {
    std::lock_guard lock(mutex);
    co_return std::find(heard.begin(), heard.end(), kind_) != heard.end();
  });
  listener.Stop();
}

TEST_F(JobsQueueTest, NotificationWakesAnIdleWorkerLongBeforeItsNextPoll) {
  jobs::HandlerRegistry handlers;
  handlers.Add(kind_, Recorder(Recording{.pool = &pool_, .worker = "w"}));
  WorkerOptions options = FastOptions("w");
  options.poll_interval = 10min;
  auto worker = MakeWorker(handlers, "w", options);
  pg::Listener listener(TestDatabaseUrl(), std::string(pg::kJobsChannel),
                        [&worker](std::string_view) { worker->Wake(); });
  listener.Start();
  bool finished = false;
  asio::co_spawn(io_, worker->Run(), [&finished](std::exception_ptr) { finished = true; });
  // Listening, and the worker asleep after the look for work that the connection triggered
  // (the listener wakes it before it reports listening).
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  io_.restart();
  while (!(listener.listening() && io_.poll() == 0 && worker->idle())) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the worker never went idle";
    io_.run_one_for(20ms);
  }

  const std::int64_t id = Enqueue(JobOf(kind_));
  WaitFor([this, id] { return HasStatus(id, JobStatus::kSucceeded); }, 20s);
  worker->Stop();
  WaitFor([&finished]() -> Task<bool> { co_return finished; });
  listener.Stop();
  EXPECT_EQ(Runs(kind_).runs, 1);
}

}  // namespace
}  // namespace market
