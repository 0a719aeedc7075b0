#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/clock.hpp"
#include "common/task.hpp"
#include "services/jobs/job_queue.hpp"
#include "services/jobs/scheduler_store.hpp"

namespace market::jobs {

// When a periodic job is due. Slots start at offset + k·period after the Unix epoch, k any
// integer. Unix time has no leap seconds and UTC no daylight saving, so every day is 86,400 s and
// every scheduler on any machine computes the same slots.
class Schedule {
 public:
  // Every `period` (a positive whole number of seconds), aligned to the epoch: every 5 minutes
  // starts at :00, :05, …; hourly at :00. Throws std::invalid_argument otherwise.
  static Schedule Every(std::chrono::seconds period);
  // Once a day at hour:minute UTC. Throws std::invalid_argument outside 00:00-23:59.
  static Schedule DailyAt(std::chrono::hours hour, std::chrono::minutes minute = {});

  // The start of the latest slot at or before `now`.
  TimePoint SlotAt(TimePoint now) const;
  // The start of the first slot after `now`.
  TimePoint NextAfter(TimePoint now) const;
  // "every 5m", "daily at 03:00 UTC", for logs.
  std::string Describe() const;

  std::chrono::seconds period() const { return period_; }
  std::chrono::seconds offset() const { return offset_; }

 private:
  Schedule(std::chrono::seconds period, std::chrono::seconds offset)
      : period_(period), offset_(offset) {}
  std::chrono::seconds period_;
  std::chrono::seconds offset_;
};

struct ScheduledJob {
  std::string kind;
  Schedule schedule;
  // A JSON value, as text.
  std::string payload = "{}";
  // Also enqueued whenever a scheduler becomes the leader (at most one such job pending).
  bool at_startup = false;
  int max_attempts = 20;
};

// The unique key of `kind`'s job for the slot starting at `slot`: sched:<kind>:<UTC ISO 8601>,
// e.g. sched:cleanup:2026-11-29T18:00:00Z.
std::string SlotKey(std::string_view kind, TimePoint slot);
// The unique key of `kind`'s start-up job: sched:<kind>:startup.
std::string StartupKey(std::string_view kind);
// Throws std::invalid_argument for an invalid kind or one declared twice.
void CheckSchedule(const std::vector<ScheduledJob>& jobs);

struct SchedulerOptions {
  // How often the leader looks for due slots and checks that it still leads.
  std::chrono::milliseconds tick{1000};
  // How often a standby tries to take the lead.
  std::chrono::milliseconds standby_retry{2000};
};

// Enqueues each periodic job once per slot while it leads; stands by, trying to take the lead,
// while another scheduler does. Only the latest due slot of a job is enqueued: a scheduler that
// was down (or a fresh deployment) catches up with one job per kind, not one per missed slot.
// Everything but Stop runs on the executor's thread.
class Scheduler {
 public:
  Scheduler(boost::asio::any_io_executor executor, services::SchedulerStore& store,
            services::JobQueue& queue, std::vector<ScheduledJob> jobs, SchedulerOptions options,
            const Clock& clock);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs until Stop(), then gives up the lead. Database errors are logged and retried; they
  // never end the loop.
  Task<void> Run();
  // Thread-safe.
  void Stop();

  bool leading() const { return leading_; }
  // Jobs this scheduler enqueued (slots and start-up ones).
  std::int64_t enqueued() const { return enqueued_; }
  // How many times it became the leader.
  int terms() const { return terms_; }

 private:
  Task<void> BecomeLeader();
  // Enqueues what is due; false when it found it no longer leads.
  Task<bool> EnqueueDue();
  Task<services::SlotClaim> EnqueueSlot(const ScheduledJob& job, TimePoint slot);
  Task<bool> EnqueueStartup(const ScheduledJob& job);
  void LoseLead(std::string_view why);
  Task<void> Sleep(std::chrono::milliseconds duration);

  boost::asio::any_io_executor executor_;
  services::SchedulerStore& store_;
  services::JobQueue& queue_;
  std::vector<ScheduledJob> jobs_;
  SchedulerOptions options_;
  const Clock& clock_;
  // Per job: the latest slot known to be recorded, so that the database is asked only when a
  // new slot begins.
  std::vector<std::optional<TimePoint>> settled_;
  boost::asio::steady_timer timer_;
  bool leading_ = false;
  bool stopping_ = false;
  std::int64_t enqueued_ = 0;
  int terms_ = 0;
};

}  // namespace market::jobs
