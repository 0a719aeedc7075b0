#include "storage/pg/jobs_repository.hpp"

#include <boost/json.hpp>

#include <stdexcept>

#include <fmt/format.h>

#include "storage/pg/params.hpp"

namespace market::pg {
namespace {

using services::Job;
using services::JobOutcome;
using services::JobStatus;

#define MARKET_JOB_COLUMNS                                                                   \
  "id, kind, payload::text AS payload, unique_key, status, run_at, attempts, max_attempts, " \
  "last_error, lease_owner, lease_expires_at, created_at, updated_at, started_at, finished_at"

#define MARKET_PENDING "status IN ('queued', 'running')"

// The notification is queued with the transaction and delivered only if it commits; identical
// ones (same kind) in one transaction are delivered once.
constexpr Statement kEnqueue{
    "jobs.enqueue",
    "WITH added AS (INSERT INTO jobs (kind, payload, unique_key, run_at, max_attempts) "
    "VALUES ($1, $2::jsonb, $3, coalesce($4::timestamptz, now()), $5) "
    "ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND " MARKET_PENDING
    " DO NOTHING RETURNING id, kind) "
    "SELECT id, pg_notify($6, kind) AS notified FROM added"};

// Jobs whose worker died come first: they have waited a whole lease already. Both sets are
// locked with SKIP LOCKED, so concurrent claims split the due jobs between them.
constexpr Statement kClaim{
    "jobs.claim",
    "WITH expired AS MATERIALIZED (SELECT id AS job_id FROM jobs WHERE status = 'running' AND "
    "lease_expires_at < now() AND attempts < max_attempts AND kind = ANY($2::text[]) "
    "ORDER BY lease_expires_at LIMIT $3 FOR UPDATE SKIP LOCKED), "
    "queued AS MATERIALIZED (SELECT id AS job_id FROM jobs WHERE status = 'queued' AND "
    "run_at <= now() AND kind = ANY($2::text[]) ORDER BY run_at, id LIMIT $3 "
    "FOR UPDATE SKIP LOCKED), "
    "due AS (SELECT job_id FROM expired UNION ALL SELECT job_id FROM queued LIMIT $3) "
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1, "
    "last_error = CASE WHEN status = 'running' THEN format('the lease of %s expired during "
    "attempt %s', lease_owner, attempts) ELSE last_error END, "
    "lease_expires_at = now() + $4 * interval '1 millisecond', started_at = now(), "
    "updated_at = now() FROM due WHERE id = due.job_id RETURNING " MARKET_JOB_COLUMNS};

constexpr Statement kBuryExpired{
    "jobs.bury_expired",
    "UPDATE jobs SET status = 'dead', last_error = format('the lease of %s expired on the last "
    "attempt (%s of %s); last error: %s', lease_owner, attempts, max_attempts, "
    "coalesce(last_error, 'none')), lease_owner = NULL, lease_expires_at = NULL, "
    "finished_at = now(), updated_at = now() WHERE id IN (SELECT id FROM jobs WHERE "
    "status = 'running' AND lease_expires_at < now() AND attempts >= max_attempts AND "
    "kind = ANY($1::text[]) FOR UPDATE SKIP LOCKED) RETURNING " MARKET_JOB_COLUMNS};

constexpr Statement kHeartbeat{
    "jobs.heartbeat",
    "UPDATE jobs SET lease_expires_at = now() + $3 * interval '1 millisecond', updated_at = now() "
    "WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING id"};

// $3: succeeded | retry | dead. A retry on the last attempt is dead.
#define MARKET_NEXT_STATUS                                                                      \
  "(CASE WHEN $3 = 'succeeded' THEN 'succeeded' WHEN $3 = 'retry' AND attempts < max_attempts " \
  "THEN 'queued' ELSE 'dead' END)"

constexpr Statement kFinish{
    "jobs.finish", "UPDATE jobs SET status = " MARKET_NEXT_STATUS
                   ", "
                   "run_at = CASE WHEN " MARKET_NEXT_STATUS
                   " = 'queued' THEN now() + $5 * interval "
                   "'1 millisecond' ELSE run_at END, "
                   "last_error = CASE WHEN $3 = 'succeeded' THEN last_error ELSE $4 END, "
                   "finished_at = CASE WHEN " MARKET_NEXT_STATUS
                   " = 'queued' THEN NULL ELSE now() END, "
                   "lease_owner = NULL, lease_expires_at = NULL, updated_at = now() "
                   "WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING status"};

constexpr Statement kFind{"jobs.find", "SELECT " MARKET_JOB_COLUMNS " FROM jobs WHERE id = $1"};

constexpr Statement kList{"jobs.list",
                          "SELECT " MARKET_JOB_COLUMNS
                          " FROM jobs WHERE ($1::text[] IS NULL OR status = ANY($1)) "
                          "AND ($2::text IS NULL OR kind = $2) ORDER BY id DESC LIMIT $3"};

constexpr Statement kRetry{
    "jobs.retry",
    "WITH again AS (UPDATE jobs SET status = 'queued', run_at = now(), finished_at = NULL, "
    "attempts = CASE WHEN status = 'dead' THEN 0 ELSE attempts END, updated_at = now() "
    "WHERE id = $1 AND status IN ('dead', 'queued') RETURNING " MARKET_JOB_COLUMNS
    ") "
    "SELECT " MARKET_JOB_COLUMNS ", pg_notify($2, kind) AS notified FROM again"};

constexpr Statement kCounts{
    "jobs.counts",
    "SELECT kind, status, count(*) AS n, coalesce((extract(epoch FROM now() - min(run_at) "
    "FILTER (WHERE status = 'queued' AND run_at <= now())) * 1000)::bigint, 0) AS oldest_due_ms "
    "FROM jobs WHERE status <> 'succeeded' GROUP BY kind, status ORDER BY kind, status"};

JobStatus StatusFrom(std::string_view text) {
  auto status = services::ParseJobStatus(text);
  if (!status) throw std::logic_error("jobs.status holds an unknown value: " + std::string(text));
  return *status;
}

Job JobFromRow(const QueryResult& rows, int r) {
  return Job{.id = rows.Int(r, "id"),
             .kind = rows.String(r, "kind"),
             .payload = rows.String(r, "payload"),
             .unique_key = rows.OptString(r, "unique_key"),
             .status = StatusFrom(rows.Text(r, "status")),
             .run_at = rows.Time(r, "run_at"),
             .attempts = static_cast<int>(rows.Int(r, "attempts")),
             .max_attempts = static_cast<int>(rows.Int(r, "max_attempts")),
             .last_error = rows.OptString(r, "last_error"),
             .lease_owner = rows.OptString(r, "lease_owner"),
             .lease_expires_at = rows.OptTime(r, "lease_expires_at"),
             .created_at = rows.Time(r, "created_at"),
             .updated_at = rows.Time(r, "updated_at"),
             .started_at = rows.OptTime(r, "started_at"),
             .finished_at = rows.OptTime(r, "finished_at")};
}

std::vector<Job> JobsFromRows(const QueryResult& rows) {
  std::vector<Job> jobs;
  jobs.reserve(rows.size());
  for (int r = 0; r < rows.size(); ++r) jobs.push_back(JobFromRow(rows, r));
  return jobs;
}

// A text[] literal. Kinds and status names are plain words, so quoting them is enough.
std::string TextArray(const std::vector<std::string>& words) {
  std::string array = "{";
  for (const auto& word : words) {
    if (!services::IsValidJobKind(word)) throw std::invalid_argument("invalid job kind: " + word);
    if (array.size() > 1) array += ',';
    array += '"' + word + '"';
  }
  return array + "}";
}

void CheckNewJob(const services::NewJob& job) {
  if (!services::IsValidJobKind(job.kind)) {
    throw std::invalid_argument("invalid job kind '" + job.kind +
                                "': 1-100 of [a-z0-9_.:-], starting with a letter or digit");
  }
  boost::system::error_code ec;
  boost::json::parse(job.payload, ec);
  if (ec) throw std::invalid_argument("the payload of a " + job.kind + " job is not JSON");
  if (job.max_attempts < 1 || job.max_attempts > 1000) {
    throw std::invalid_argument("max_attempts must be 1 to 1000");
  }
}

std::string_view OutcomeName(JobOutcome::Kind kind) {
  switch (kind) {
    case JobOutcome::Kind::kSucceeded:
      return "succeeded";
    case JobOutcome::Kind::kRetry:
      return "retry";
    case JobOutcome::Kind::kDead:
      return "dead";
  }
  return "dead";
}

}  // namespace

Task<std::optional<std::int64_t>> PgJobQueue::Insert(Executor& executor,
                                                     const services::NewJob& job) {
  CheckNewJob(job);
  QueryResult rows = co_await executor.Execute(
      kEnqueue,
      Params(job.kind, job.payload, job.unique_key, job.run_at, job.max_attempts, kJobsChannel));
  if (rows.empty()) co_return std::nullopt;
  co_return rows.Int(0, "id");
}

Task<std::optional<std::int64_t>> PgJobQueue::Enqueue(services::Transaction& tx,
                                                      const services::NewJob& job) {
  co_return co_await Insert(AsPg(tx), job);
}

Task<std::optional<std::int64_t>> PgJobQueue::Enqueue(const services::NewJob& job) {
  co_return co_await Insert(pool_, job);
}

Task<std::vector<Job>> PgJobQueue::Claim(std::string_view owner,
                                         const std::vector<std::string>& kinds, int limit,
                                         std::chrono::milliseconds lease) {
  if (kinds.empty() || limit <= 0) co_return std::vector<Job>{};
  std::int64_t lease_ms = lease.count();
  std::vector<Param> params = Params(owner, TextArray(kinds), limit, lease_ms);
  QueryResult rows = co_await pool_.Execute(kClaim, std::move(params));
  co_return JobsFromRows(rows);
}

Task<std::vector<Job>> PgJobQueue::BuryExpired(const std::vector<std::string>& kinds) {
  if (kinds.empty()) co_return std::vector<Job>{};
  std::string array = TextArray(kinds);
  QueryResult rows = co_await pool_.Execute(kBuryExpired, Params(array));
  co_return JobsFromRows(rows);
}

Task<bool> PgJobQueue::Heartbeat(std::int64_t id, std::string_view owner,
                                 std::chrono::milliseconds lease) {
  std::int64_t lease_ms = lease.count();
  QueryResult rows = co_await pool_.Execute(kHeartbeat, Params(id, owner, lease_ms));
  co_return !rows.empty();
}

Task<std::optional<JobStatus>> PgJobQueue::Finish(std::int64_t id, std::string_view owner,
                                                  const JobOutcome& outcome) {
  std::int64_t retry_ms = outcome.retry_in.count();
  QueryResult rows = co_await pool_.Execute(
      kFinish, Params(id, owner, OutcomeName(outcome.kind), outcome.error, retry_ms));
  if (rows.empty()) co_return std::nullopt;
  co_return StatusFrom(rows.Text(0, "status"));
}

Task<std::optional<Job>> PgJobQueue::Find(std::int64_t id) {
  QueryResult rows = co_await pool_.Execute(kFind, Params(id));
  if (rows.empty()) co_return std::nullopt;
  co_return JobFromRow(rows, 0);
}

Task<std::vector<Job>> PgJobQueue::List(const services::JobListQuery& query) {
  Param statuses;
  if (!query.statuses.empty()) {
    std::vector<std::string> names;
    for (JobStatus status : query.statuses) names.emplace_back(services::JobStatusName(status));
    statuses = TextArray(names);
  }
  QueryResult rows = co_await pool_.Execute(kList, Params(statuses, query.kind, query.limit));
  co_return JobsFromRows(rows);
}

Task<Result<Job>> PgJobQueue::Retry(std::int64_t id) {
  std::optional<QueryResult> rows;
  try {
    rows.emplace(co_await pool_.Execute(kRetry, Params(id, kJobsChannel)));
  } catch (const PgError& error) {
    if (!error.IsUniqueViolation()) throw;
  }
  if (!rows) {
    co_return MakeError(ErrorCode::kConflict,
                        fmt::format("job {}: another job with its unique key is pending", id));
  }
  if (!rows->empty()) co_return JobFromRow(*rows, 0);
  std::optional<Job> job = co_await Find(id);
  if (!job) co_return MakeError(ErrorCode::kNotFound, fmt::format("job {} does not exist", id));
  co_return MakeError(ErrorCode::kConflict, fmt::format("job {} is {}, not dead or queued", id,
                                                        services::JobStatusName(job->status)));
}

Task<std::vector<services::JobCount>> PgJobQueue::Counts() {
  QueryResult rows = co_await pool_.Execute(kCounts, NoParams());
  std::vector<services::JobCount> counts;
  for (int r = 0; r < rows.size(); ++r) {
    counts.push_back(services::JobCount{
        .kind = rows.String(r, "kind"),
        .status = StatusFrom(rows.Text(r, "status")),
        .count = rows.Int(r, "n"),
        .oldest_due_wait = std::chrono::milliseconds(rows.Int(r, "oldest_due_ms"))});
  }
  co_return counts;
}

}  // namespace market::pg
