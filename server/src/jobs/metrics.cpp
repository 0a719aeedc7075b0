#include "jobs/metrics.hpp"

#include <fmt/format.h>

namespace market::jobs {
namespace {

constexpr std::array<std::string_view, 4> kEndedNames = {"succeeded", "failed", "dead",
                                                         "lease_lost"};

}  // namespace

void JobMetrics::Histogram::Observe(double seconds) {
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  ++buckets[bucket];
  sum += seconds;
}

JobMetrics::Kind& JobMetrics::At(std::string_view kind) {
  auto it = kinds_.find(kind);
  if (it == kinds_.end()) it = kinds_.emplace(std::string(kind), Kind{}).first;
  return it->second;
}

void JobMetrics::Started(std::string_view kind, std::chrono::milliseconds waited) {
  std::lock_guard lock(mutex_);
  Kind& k = At(kind);
  ++k.running;
  k.latency.Observe(
      std::chrono::duration<double>(std::max(waited, std::chrono::milliseconds::zero())).count());
}

void JobMetrics::Finished(std::string_view kind, Ended how, std::chrono::nanoseconds took) {
  std::lock_guard lock(mutex_);
  Kind& k = At(kind);
  --k.running;
  ++k.ended[static_cast<std::size_t>(how)];
  k.duration.Observe(std::chrono::duration<double>(took).count());
}

void JobMetrics::Buried(std::string_view kind) {
  std::lock_guard lock(mutex_);
  ++At(kind).ended[static_cast<std::size_t>(Ended::kDead)];
}

std::int64_t JobMetrics::running(std::string_view kind) const {
  std::lock_guard lock(mutex_);
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? 0 : it->second.running;
}

std::uint64_t JobMetrics::count(std::string_view kind, Ended how) const {
  std::lock_guard lock(mutex_);
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? 0 : it->second.ended[static_cast<std::size_t>(how)];
}

std::string JobMetrics::Render(const std::vector<services::JobCount>& counts) const {
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP jobs_running Jobs this process is running.\n# TYPE jobs_running gauge\n";
  for (const auto& [kind, k] : kinds_) {
    out += fmt::format("jobs_running{{kind=\"{}\"}} {}\n", kind, k.running);
  }
  out +=
      "# HELP jobs_attempts_total Attempts this process ended, by outcome (failed: a retry is "
      "scheduled).\n# TYPE jobs_attempts_total counter\n";
  for (const auto& [kind, k] : kinds_) {
    for (std::size_t i = 0; i < kEndedNames.size(); ++i) {
      out += fmt::format("jobs_attempts_total{{kind=\"{}\",outcome=\"{}\"}} {}\n", kind,
                         kEndedNames[i], k.ended[i]);
    }
  }
  auto histogram = [&out](std::string_view name, std::string_view help, auto member,
                          const auto& kinds) {
    out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    for (const auto& [kind, k] : kinds) {
      const Histogram& h = k.*member;
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
        cumulative += h.buckets[b];
        std::string le = b < kBuckets.size() ? fmt::format("{}", kBuckets[b]) : "+Inf";
        out += fmt::format("{}_bucket{{kind=\"{}\",le=\"{}\"}} {}\n", name, kind, le, cumulative);
      }
      out += fmt::format("{}_sum{{kind=\"{}\"}} {:.6f}\n", name, kind, h.sum);
      out += fmt::format("{}_count{{kind=\"{}\"}} {}\n", name, kind, cumulative);
    }
  };
  histogram("jobs_queue_latency_seconds", "From a job's run_at to its claim.", &Kind::latency,
            kinds_);
  histogram("jobs_run_duration_seconds", "How long attempts took.", &Kind::duration, kinds_);

  out +=
      "# HELP jobs_queue_depth Jobs in the queue by kind and status (succeeded ones are not "
      "counted).\n# TYPE jobs_queue_depth gauge\n";
  for (const auto& c : counts) {
    out += fmt::format("jobs_queue_depth{{kind=\"{}\",status=\"{}\"}} {}\n", c.kind,
                       services::JobStatusName(c.status), c.count);
  }
  out +=
      "# HELP jobs_oldest_due_seconds How long the oldest due queued job has waited.\n"
      "# TYPE jobs_oldest_due_seconds gauge\n";
  for (const auto& c : counts) {
    if (c.status != services::JobStatus::kQueued) continue;
    out += fmt::format("jobs_oldest_due_seconds{{kind=\"{}\"}} {:.3f}\n", c.kind,
                       std::chrono::duration<double>(c.oldest_due_wait).count());
  }
  return out;
}

}  // namespace market::jobs
