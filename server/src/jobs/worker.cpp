#include "jobs/worker.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace market::jobs {
namespace {

namespace asio = boost::asio;
using asio::experimental::awaitable_operators::operator&&;
using services::Job;
using services::JobOutcome;
using services::JobStatus;

// last_error is for people reading `jobs list`; a handler that throws a whole response body
// should not bloat the row.
constexpr std::size_t kMaxErrorBytes = 2000;

std::string Truncated(std::string text) {
  if (text.size() > kMaxErrorBytes) {
    text.resize(kMaxErrorBytes);
    text += "…";
  }
  return text;
}

std::chrono::milliseconds Waited(const Job& job) {
  if (!job.started_at) return {};
  return std::chrono::duration_cast<std::chrono::milliseconds>(*job.started_at - job.run_at);
}

}  // namespace

void HandlerRegistry::Add(std::string kind, JobHandler handler) {
  if (!services::IsValidJobKind(kind)) {
    throw std::invalid_argument("invalid job kind '" + kind + "'");
  }
  if (!handlers_.emplace(kind, std::move(handler)).second) {
    throw std::invalid_argument("job kind '" + kind + "' registered twice");
  }
}

const JobHandler* HandlerRegistry::Find(std::string_view kind) const {
  auto it = handlers_.find(kind);
  return it == handlers_.end() ? nullptr : &it->second;
}

std::vector<std::string> HandlerRegistry::Kinds() const {
  std::vector<std::string> kinds;
  for (const auto& [kind, handler] : handlers_) kinds.push_back(kind);
  return kinds;
}

std::string DefaultWorkerName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  std::mt19937 random{std::random_device{}()};
  return fmt::format("{}:{}:{:08x}", host, getpid(), random());
}

// One attempt in flight: the handler and its heartbeat share it.
struct Worker::Attempt {
  explicit Attempt(const Job& job, asio::any_io_executor executor)
      : context{.job = job}, heartbeat(std::move(executor)) {}
  JobContext context;
  asio::steady_timer heartbeat;
  bool done = false;
};

Worker::Worker(boost::asio::any_io_executor executor, services::JobQueue& queue,
               const HandlerRegistry& handlers, WorkerOptions options, JobMetrics& metrics)
    : executor_(executor),
      queue_(queue),
      handlers_(handlers),
      options_(std::move(options)),
      metrics_(metrics),
      timer_(executor) {
  if (options_.concurrency < 1) throw std::invalid_argument("worker concurrency must be >= 1");
  if (options_.name.empty()) options_.name = DefaultWorkerName();
}

void Worker::Wake() {
  asio::post(executor_, [this] { WakeHere(); });
}

void Worker::Stop() {
  asio::post(executor_, [this] {
    stopping_ = true;
    WakeHere();
  });
}

void Worker::WakeHere() {
  woken_ = true;
  timer_.cancel();
}

Task<void> Worker::Sleep(std::chrono::milliseconds duration) {
  timer_.expires_after(duration);
  boost::system::error_code ignored;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

Task<void> Worker::Run() {
  kinds_ = handlers_.Kinds();
  spdlog::info("worker {}: {} slots, kinds: {}", options_.name, options_.concurrency,
               fmt::join(kinds_, ", "));
  auto next_burial = std::chrono::steady_clock::now();
  while (!stopping_) {
    woken_ = false;
    bool failed = false;
    try {
      if (std::chrono::steady_clock::now() >= next_burial) {
        next_burial = std::chrono::steady_clock::now() + options_.poll_interval;
        std::vector<Job> buried = co_await queue_.BuryExpired(kinds_);
        for (const Job& job : buried) {
          spdlog::error("job {} ({}) is dead: {}", job.id, job.kind, job.last_error.value_or(""));
          metrics_.Buried(job.kind);
        }
      }
      const int free = options_.concurrency - running_;
      if (free > 0) {
        std::vector<Job> jobs = co_await queue_.Claim(options_.name, kinds_, free, options_.lease);
        for (Job& job : jobs) {
          ++running_;
          metrics_.Started(job.kind, Waited(job));
          asio::co_spawn(executor_, RunJob(std::move(job)), asio::detached);
        }
        // A full batch may have left more behind: look again as soon as a slot frees up.
        if (static_cast<int>(jobs.size()) == free) woken_ = true;
      }
    } catch (const std::exception& e) {
      spdlog::warn("worker {}: cannot claim jobs: {}", options_.name, e.what());
      failed = true;
    }
    if (stopping_) break;
    if (failed || !woken_ || running_ >= options_.concurrency) {
      // A job that finishes or a notification cuts this short (unless the queue is failing).
      sleeping_ = true;
      co_await Sleep(options_.poll_interval);
      sleeping_ = false;
    }
  }
  spdlog::info("worker {}: stopping, waiting for {} running jobs", options_.name, running_);
  while (running_ > 0) co_await Sleep(options_.poll_interval);
}

Task<void> Worker::RunJob(Job job) {
  const auto start = std::chrono::steady_clock::now();
  Attempt attempt(job, executor_);
  JobOutcome outcome = co_await (Execute(job, attempt) && KeepLease(job.id, attempt));
  JobMetrics::Ended ended = JobMetrics::Ended::kLeaseLost;
  try {
    std::optional<JobStatus> status = co_await queue_.Finish(job.id, options_.name, outcome);
    if (!status) {
      spdlog::warn("job {} ({}): lease lost before it ended; another worker may run it again",
                   job.id, job.kind);
    } else if (*status == JobStatus::kSucceeded) {
      ended = JobMetrics::Ended::kSucceeded;
    } else if (*status == JobStatus::kQueued) {
      ended = JobMetrics::Ended::kFailed;
      spdlog::warn("job {} ({}) attempt {}/{} failed, retry in {} ms: {}", job.id, job.kind,
                   job.attempts, job.max_attempts, outcome.retry_in.count(), outcome.error);
    } else {
      ended = JobMetrics::Ended::kDead;
      spdlog::error("job {} ({}) is dead after attempt {}/{}: {}", job.id, job.kind, job.attempts,
                    job.max_attempts, outcome.error);
    }
  } catch (const std::exception& e) {
    // The lease runs out and the job runs again: handlers are idempotent.
    spdlog::error("job {} ({}): cannot record its outcome: {}", job.id, job.kind, e.what());
  }
  metrics_.Finished(job.kind, ended, std::chrono::steady_clock::now() - start);
  --running_;
  WakeHere();
}

Task<JobOutcome> Worker::Execute(const Job& job, Attempt& attempt) {
  JobOutcome outcome;
  const JobHandler* handler = handlers_.Find(job.kind);
  try {
    if (handler == nullptr) throw PermanentFailure("no handler for kind " + job.kind);
    co_await (*handler)(attempt.context);
  } catch (const PermanentFailure& e) {
    outcome = JobOutcome{.kind = JobOutcome::Kind::kDead, .error = Truncated(e.what())};
  } catch (const RetryLater& e) {
    outcome = JobOutcome{.kind = JobOutcome::Kind::kRetry,
                         .error = Truncated(e.what()),
                         .retry_in = std::max(e.delay(), std::chrono::milliseconds::zero())};
  } catch (const std::exception& e) {
    outcome = JobOutcome{.kind = JobOutcome::Kind::kRetry,
                         .error = Truncated(e.what()),
                         .retry_in = RetryDelay(options_.backoff, job.attempts)};
  } catch (...) {
    outcome = JobOutcome{.kind = JobOutcome::Kind::kRetry,
                         .error = "unknown exception",
                         .retry_in = RetryDelay(options_.backoff, job.attempts)};
  }
  attempt.done = true;
  attempt.heartbeat.cancel();
  co_return outcome;
}

Task<void> Worker::KeepLease(std::int64_t id, Attempt& attempt) {
  while (!attempt.done) {
    attempt.heartbeat.expires_after(options_.lease / 3);
    boost::system::error_code ignored;
    co_await attempt.heartbeat.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (attempt.done) break;
    try {
      if (!co_await queue_.Heartbeat(id, options_.name, options_.lease)) {
        attempt.context.lease_lost = true;
        spdlog::warn("job {}: lease lost while running", id);
        break;
      }
    } catch (const std::exception& e) {
      // Tried again at the next beat; the lease has two more thirds to go.
      spdlog::warn("job {}: heartbeat failed: {}", id, e.what());
    }
  }
}

}  // namespace market::jobs
