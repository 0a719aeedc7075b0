#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "services/jobs/job_queue.hpp"

namespace market::jobs {

// What the workers of one process did, per kind, in the Prometheus text format. Thread-safe: a
// process may run workers on several threads. Jobs finish at most a few thousand times a second,
// so one mutex is cheap enough.
class JobMetrics {
 public:
  enum class Ended { kSucceeded, kFailed, kDead, kLeaseLost };

  // A claimed job starts; `waited` is from its run_at to its claim (the queue latency).
  void Started(std::string_view kind, std::chrono::milliseconds waited);
  // kFailed: the attempt failed and a retry is scheduled. kLeaseLost: the worker no longer held
  // the lease when the attempt ended, so its outcome was not recorded.
  void Finished(std::string_view kind, Ended how, std::chrono::nanoseconds took);
  // Jobs moved to dead because their lease ran out on the last attempt.
  void Buried(std::string_view kind);

  std::int64_t running(std::string_view kind) const;
  std::uint64_t count(std::string_view kind, Ended how) const;

  // This process's counters, then the queue as the database sees it (`counts`): jobs queued,
  // running and dead per kind, and how long the oldest due job has waited.
  std::string Render(const std::vector<services::JobCount>& counts) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                                      2.5,  5,    10,  30,   60,  300};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size() + 1> buckets{};
    double sum = 0;
    void Observe(double seconds);
  };
  struct Kind {
    std::int64_t running = 0;
    std::array<std::uint64_t, 4> ended{};  // by Ended
    Histogram latency;
    Histogram duration;
  };
  Kind& At(std::string_view kind);

  mutable std::mutex mutex_;
  std::map<std::string, Kind, std::less<>> kinds_;
};

}  // namespace market::jobs
