// `marketplace worker` as a process: SIGKILL in the middle of a job loses nothing (another worker
// runs it once the lease ran out) and SIGTERM lets the running job finish before exiting 0.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "db/child_process.hpp"
#include "db/db_support.hpp"
#include "services/jobs/job_queue.hpp"
#include "storage/pg/jobs_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/pool.hpp"

namespace market {
namespace {

using services::Job;
using services::JobStatus;
using namespace std::chrono_literals;

// A `marketplace worker` child process with this test's environment plus `settings`.
class WorkerProcess : public ChildProcess {
 public:
  explicit WorkerProcess(const std::vector<std::string>& settings)
      : ChildProcess("worker", settings, "jobs_process_worker.log") {}
};

class JobsProcessTest : public ::testing::Test {
 protected:
  JobsProcessTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 2}),
        queue_(pool_) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
  }

  std::int64_t EnqueueSleep(double seconds) {
    // The nonce keeps the job apart from any other debug.sleep job in the queue.
    services::NewJob job{.kind = "debug.sleep",
                         .payload = "{\"seconds\":" + std::to_string(seconds) + ",\"nonce\":\"" +
                                    RandomSuffix() + "\"}"};
    return RunTask(io_, queue_.Enqueue(job)).value();
  }

  Job Get(std::int64_t id) { return RunTask(io_, queue_.Find(id)).value(); }

  // Polls the job until `done` holds for it; fails the test after `limit`.
  template <class Predicate>
  Job WaitForJob(std::int64_t id, Predicate done, std::chrono::seconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      Job job = Get(id);
      if (done(job)) return job;
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("job " + std::to_string(id) + " stuck in " +
                                 std::string(services::JobStatusName(job.status)));
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  static bool RunningIn(const Job& job, pid_t pid) {
    return job.status == JobStatus::kRunning && job.lease_owner &&
           job.lease_owner->find(":" + std::to_string(pid) + ":") != std::string::npos;
  }

  boost::asio::io_context io_;
  pg::Pool pool_;
  pg::PgJobQueue queue_;
};

const std::vector<std::string> kSettings = {"WORKER_LEASE=3s", "WORKER_POLL_INTERVAL=1s",
                                            "WORKER_METRICS_PORT=0", "LOG_LEVEL=info"};

TEST_F(JobsProcessTest, WorkerKilledMidJobLosesNothing) {
  WorkerProcess first(kSettings);
  const pid_t first_pid = first.pid();
  const std::int64_t id = EnqueueSleep(2);
  WaitForJob(id, [first_pid](const Job& job) { return RunningIn(job, first_pid); });
  first.Signal(SIGKILL);
  EXPECT_EQ(first.Wait(), 128 + SIGKILL);
  const Job orphan = Get(id);
  ASSERT_TRUE(RunningIn(orphan, first_pid)) << "nobody finished it";

  WorkerProcess second(kSettings);
  const Job done =
      WaitForJob(id, [](const Job& job) { return job.status == JobStatus::kSucceeded; });
  EXPECT_EQ(done.attempts, 2);
  EXPECT_EQ(done.last_error,
            "the lease of " + orphan.lease_owner.value() + " expired during attempt 1");
  second.Signal(SIGTERM);
  EXPECT_EQ(second.Wait(), 0);
}

TEST_F(JobsProcessTest, SigtermLetsTheRunningJobFinishThenExitsCleanly) {
  WorkerProcess worker(kSettings);
  const std::int64_t id = EnqueueSleep(1.5);
  WaitForJob(id, [&worker](const Job& job) { return RunningIn(job, worker.pid()); });
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(), 0);
  const Job job = Get(id);
  EXPECT_EQ(job.status, JobStatus::kSucceeded);
  EXPECT_EQ(job.attempts, 1);
}

}  // namespace
}  // namespace market
