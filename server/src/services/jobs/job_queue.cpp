#include "services/jobs/job_queue.hpp"

#include <algorithm>

namespace market::services {

std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kQueued:
      return "queued";
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kSucceeded:
      return "succeeded";
    case JobStatus::kDead:
      return "dead";
  }
  return "unknown";
}

std::optional<JobStatus> ParseJobStatus(std::string_view text) {
  for (JobStatus status :
       {JobStatus::kQueued, JobStatus::kRunning, JobStatus::kSucceeded, JobStatus::kDead}) {
    if (JobStatusName(status) == text) return status;
  }
  return std::nullopt;
}

// Mirrors the jobs_kind_format CHECK of migration 0008.
bool IsValidJobKind(std::string_view kind) {
  auto word = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  auto allowed = [&word](char c) {
    return word(c) || c == '_' || c == '.' || c == ':' || c == '-';
  };
  return !kind.empty() && kind.size() <= 100 && word(kind.front()) &&
         std::all_of(kind.begin(), kind.end(), allowed);
}

}  // namespace market::services
