#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/backoff.hpp"
#include "common/task.hpp"
#include "jobs/metrics.hpp"
#include "services/jobs/job_queue.hpp"

namespace market::jobs {

// Thrown by a handler for a failure that retrying cannot fix (a payload it cannot read): the job
// goes to dead at once. Any other exception is retried with backoff until max_attempts.
class PermanentFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by a handler whose work knows better than the worker's backoff when to try again (a
// webhook whose delivery has its own schedule): retried after `delay`, still bounded by
// max_attempts.
class RetryLater : public std::runtime_error {
 public:
  RetryLater(const std::string& what, std::chrono::milliseconds delay)
      : std::runtime_error(what), delay_(delay) {}
  std::chrono::milliseconds delay() const { return delay_; }

 private:
  std::chrono::milliseconds delay_;
};

struct JobContext {
  const services::Job& job;
  // Set when a heartbeat found the lease gone: it ran out and another worker may be running the
  // job. A long handler should stop at its next safe point; its outcome will not be recorded.
  bool lease_lost = false;
};

// Runs one attempt. Handlers must be idempotent: a job whose worker died mid-attempt runs again.
using JobHandler = std::function<Task<void>(JobContext&)>;

class HandlerRegistry {
 public:
  // Throws std::invalid_argument for an invalid kind or one registered already.
  void Add(std::string kind, JobHandler handler);
  const JobHandler* Find(std::string_view kind) const;
  std::vector<std::string> Kinds() const;  // sorted

 private:
  std::map<std::string, JobHandler, std::less<>> handlers_;
};

struct WorkerOptions {
  // Names this worker in leases; unique among workers (see DefaultWorkerName).
  std::string name;
  int concurrency = 4;
  // How often to look for due jobs when nothing wakes the worker; also how often leases that ran
  // out on the last attempt are buried.
  std::chrono::milliseconds poll_interval{1000};
  // Renewed every third of itself while a job runs: a worker that dies loses its jobs to others
  // after at most this long.
  std::chrono::milliseconds lease{30'000};
  BackoffPolicy backoff;
};

// host:pid:random, so that a restarted process never mistakes an old lease for its own.
std::string DefaultWorkerName();

// Claims due jobs of the registered kinds and runs up to `concurrency` at once on `executor`.
// Everything but Wake and Stop runs on the executor's thread.
class Worker {
 public:
  Worker(boost::asio::any_io_executor executor, services::JobQueue& queue,
         const HandlerRegistry& handlers, WorkerOptions options, JobMetrics& metrics);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs until Stop(), then waits for the running jobs to finish. Queue errors (the database
  // down) are logged and retried at the poll interval; they never end the loop.
  Task<void> Run();
  // Look for jobs now (a NOTIFY arrived). Thread-safe.
  void Wake();
  // Claim nothing more; Run() returns once the running jobs are done. Thread-safe.
  void Stop();

  const WorkerOptions& options() const { return options_; }
  int running() const { return running_; }
  // Waiting for the poll interval, a notification or a free slot, with no job running.
  bool idle() const { return sleeping_ && running_ == 0; }

 private:
  struct Attempt;
  Task<void> RunJob(services::Job job);
  Task<services::JobOutcome> Execute(const services::Job& job, Attempt& attempt);
  Task<void> KeepLease(std::int64_t id, Attempt& attempt);
  void WakeHere();
  Task<void> Sleep(std::chrono::milliseconds duration);

  boost::asio::any_io_executor executor_;
  services::JobQueue& queue_;
  const HandlerRegistry& handlers_;
  WorkerOptions options_;
  JobMetrics& metrics_;
  std::vector<std::string> kinds_;
  boost::asio::steady_timer timer_;
  int running_ = 0;
  bool woken_ = false;
  bool sleeping_ = false;
  bool stopping_ = false;
};

}  // namespace market::jobs
