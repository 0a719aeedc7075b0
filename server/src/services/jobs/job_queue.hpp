#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "services/database.hpp"

namespace market::services {

enum class JobStatus { kQueued, kRunning, kSucceeded, kDead };

std::string_view JobStatusName(JobStatus status);
std::optional<JobStatus> ParseJobStatus(std::string_view text);

// A kind is what workers dispatch on: 1-100 of [a-z0-9_.:-], starting with a letter or digit.
bool IsValidJobKind(std::string_view kind);

struct NewJob {
  std::string kind;
  // A JSON object or value, as text; checked on enqueue.
  std::string payload = "{}";
  // While a job with this key is queued or running, enqueueing the key again adds nothing.
  std::optional<std::string> unique_key;
  // Not before; now when unset.
  std::optional<TimePoint> run_at;
  int max_attempts = 20;
};

struct Job {
  std::int64_t id = 0;
  std::string kind;
  std::string payload;
  std::optional<std::string> unique_key;
  JobStatus status = JobStatus::kQueued;
  TimePoint run_at;
  int attempts = 0;  // the running attempt included
  int max_attempts = 0;
  std::optional<std::string> last_error;
  std::optional<std::string> lease_owner;
  std::optional<TimePoint> lease_expires_at;
  TimePoint created_at;
  TimePoint updated_at;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
};

// How one claimed attempt ended, for Finish.
struct JobOutcome {
  enum class Kind { kSucceeded, kRetry, kDead };
  Kind kind = Kind::kSucceeded;
  std::string error;                     // kRetry, kDead
  std::chrono::milliseconds retry_in{};  // kRetry: from now, by the database's clock
};

struct JobListQuery {
  std::vector<JobStatus> statuses;  // empty: any
  std::optional<std::string> kind;
  int limit = 50;
};

struct JobCount {
  std::string kind;
  JobStatus status = JobStatus::kQueued;
  std::int64_t count = 0;
  // kQueued: how long the oldest due job has waited past its run_at (zero if none is due).
  std::chrono::milliseconds oldest_due_wait{};
};

// The durable queue. Enqueue joins the caller's transaction; everything else runs on its own.
class JobQueue {
 public:
  virtual ~JobQueue() = default;

  // Adds the job to `tx` and wakes listening workers when `tx` commits. Returns its id, or
  // nullopt when a queued or running job has the same unique_key. Throws std::invalid_argument
  // for an invalid kind, payload (not JSON) or max_attempts (1-1000): those are bugs.
  virtual Task<std::optional<std::int64_t>> Enqueue(Transaction& tx, const NewJob& job) = 0;
  // The same in a transaction of its own.
  virtual Task<std::optional<std::int64_t>> Enqueue(const NewJob& job) = 0;

  // Leases up to `limit` jobs of `kinds` to `owner` for `lease`: due queued ones, and running
  // ones whose lease ran out (their worker died) while attempts remain. Each claim counts as an
  // attempt. Concurrent claims never return the same job.
  virtual Task<std::vector<Job>> Claim(std::string_view owner,
                                       const std::vector<std::string>& kinds, int limit,
                                       std::chrono::milliseconds lease) = 0;
  // Moves running jobs whose lease ran out on their last attempt to dead; returns them.
  virtual Task<std::vector<Job>> BuryExpired(const std::vector<std::string>& kinds) = 0;
  // Extends the lease; false when `owner` no longer holds it (it expired and was taken over).
  virtual Task<bool> Heartbeat(std::int64_t id, std::string_view owner,
                               std::chrono::milliseconds lease) = 0;
  // Records how the attempt ended. kRetry on the last attempt is recorded as dead. Returns the
  // resulting status, or nullopt when `owner` no longer held the lease (nothing is changed).
  virtual Task<std::optional<JobStatus>> Finish(std::int64_t id, std::string_view owner,
                                                const JobOutcome& outcome) = 0;

  virtual Task<std::optional<Job>> Find(std::int64_t id) = 0;
  // Newest first.
  virtual Task<std::vector<Job>> List(const JobListQuery& query) = 0;
  // A dead job is queued again with its attempts reset; a queued one is made due now. kNotFound
  // for an unknown id; kConflict when it is running or succeeded, or when another job with its
  // unique key is pending.
  virtual Task<Result<Job>> Retry(std::int64_t id) = 0;
  // Jobs per kind and status (succeeded ones are not counted: they only pile up).
  virtual Task<std::vector<JobCount>> Counts() = 0;
};

}  // namespace market::services
