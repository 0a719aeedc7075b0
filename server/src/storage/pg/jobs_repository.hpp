#pragma once

#include <string_view>

#include "services/jobs/job_queue.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

// The channel Enqueue and Retry notify (payload: the job's kind) when they commit.
inline constexpr std::string_view kJobsChannel = "market_jobs";

class PgJobQueue final : public services::JobQueue {
 public:
  explicit PgJobQueue(Pool& pool) : pool_(pool) {}

  Task<std::optional<std::int64_t>> Enqueue(services::Transaction& tx,
                                            const services::NewJob& job) override;
  Task<std::optional<std::int64_t>> Enqueue(const services::NewJob& job) override;
  Task<std::vector<services::Job>> Claim(std::string_view owner,
                                         const std::vector<std::string>& kinds, int limit,
                                         std::chrono::milliseconds lease) override;
  Task<std::vector<services::Job>> BuryExpired(const std::vector<std::string>& kinds) override;
  Task<bool> Heartbeat(std::int64_t id, std::string_view owner,
                       std::chrono::milliseconds lease) override;
  Task<std::optional<services::JobStatus>> Finish(std::int64_t id, std::string_view owner,
                                                  const services::JobOutcome& outcome) override;
  Task<std::optional<services::Job>> Find(std::int64_t id) override;
  Task<std::vector<services::Job>> List(const services::JobListQuery& query) override;
  Task<Result<services::Job>> Retry(std::int64_t id) override;
  Task<std::vector<services::JobCount>> Counts() override;

 private:
  Task<std::optional<std::int64_t>> Insert(Executor& executor, const services::NewJob& job);
  Pool& pool_;
};

}  // namespace market::pg
