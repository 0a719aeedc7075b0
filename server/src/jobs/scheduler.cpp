#include "jobs/scheduler.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <set>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace market::jobs {
namespace {

namespace asio = boost::asio;
using services::SlotClaim;
using std::chrono::seconds;

constexpr seconds kDay{86'400};

// "5m", "1h", "90s": the largest unit that divides `period`.
std::string FormatPeriod(seconds period) {
  if (period % kDay == seconds::zero()) return fmt::format("{}d", period / kDay);
  if (period % std::chrono::hours(1) == seconds::zero())
    return fmt::format("{}h", period / std::chrono::hours(1));
  if (period % std::chrono::minutes(1) == seconds::zero())
    return fmt::format("{}m", period / std::chrono::minutes(1));
  return fmt::format("{}s", period.count());
}

// 2026-11-29T03:00:00Z. By hand rather than through fmt's chrono support, which formats a
// time_point in local time in some versions.
std::string IsoUtc(TimePoint time) {
  const auto secs = std::chrono::floor<seconds>(time);
  const auto day = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss<seconds> clock{secs - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", int(date.year()),
                     unsigned(date.month()), unsigned(date.day()), clock.hours().count(),
                     clock.minutes().count(), clock.seconds().count());
}

services::NewJob NewJobOf(const ScheduledJob& job, std::string unique_key) {
  return services::NewJob{.kind = job.kind,
                          .payload = job.payload,
                          .unique_key = std::move(unique_key),
                          .max_attempts = job.max_attempts};
}

}  // namespace

Schedule Schedule::Every(seconds period) {
  if (period <= seconds::zero())
    throw std::invalid_argument("a schedule's period must be positive");
  return Schedule(period, seconds::zero());
}

Schedule Schedule::DailyAt(std::chrono::hours hour, std::chrono::minutes minute) {
  const seconds offset = hour + minute;
  if (hour.count() < 0 || hour.count() > 23 || minute.count() < 0 || minute.count() > 59) {
    throw std::invalid_argument("a daily time must be 00:00 to 23:59");
  }
  return Schedule(kDay, offset);
}

TimePoint Schedule::SlotAt(TimePoint now) const {
  const seconds since_first = std::chrono::floor<seconds>(now.time_since_epoch()) - offset_;
  std::int64_t slots = since_first / period_;
  if (since_first % period_ < seconds::zero()) --slots;  // division truncates toward zero
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(offset_ + slots * period_));
}

TimePoint Schedule::NextAfter(TimePoint now) const { return SlotAt(now) + period_; }

std::string Schedule::Describe() const {
  if (period_ == kDay && offset_ != seconds::zero()) {
    const std::chrono::hh_mm_ss<seconds> at{offset_};
    return fmt::format("daily at {:02}:{:02} UTC", at.hours().count(), at.minutes().count());
  }
  if (offset_ == seconds::zero()) return "every " + FormatPeriod(period_);
  return fmt::format("every {} from +{}", FormatPeriod(period_), FormatPeriod(offset_));
}

std::string SlotKey(std::string_view kind, TimePoint slot) {
  return fmt::format("sched:{}:{}", kind, IsoUtc(slot));
}

std::string StartupKey(std::string_view kind) { return fmt::format("sched:{}:startup", kind); }

void CheckSchedule(const std::vector<ScheduledJob>& jobs) {
  std::set<std::string_view> kinds;
  for (const auto& job : jobs) {
    if (!services::IsValidJobKind(job.kind)) {
      throw std::invalid_argument("invalid scheduled job kind '" + job.kind + "'");
    }
    if (!kinds.insert(job.kind).second) {
      throw std::invalid_argument("job kind '" + job.kind + "' is scheduled twice");
    }
  }
}

Scheduler::Scheduler(asio::any_io_executor executor, services::SchedulerStore& store,
                     services::JobQueue& queue, std::vector<ScheduledJob> jobs,
                     SchedulerOptions options, const Clock& clock)
    : executor_(executor),
      store_(store),
      queue_(queue),
      jobs_(std::move(jobs)),
      options_(options),
      clock_(clock),
      settled_(jobs_.size()),
      timer_(executor) {
  CheckSchedule(jobs_);
}

void Scheduler::Stop() {
  asio::post(executor_, [this] {
    stopping_ = true;
    timer_.cancel();
  });
}

Task<void> Scheduler::Sleep(std::chrono::milliseconds duration) {
  timer_.expires_after(duration);
  boost::system::error_code ignored;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

void Scheduler::LoseLead(std::string_view why) {
  if (!leading_) return;
  leading_ = false;
  spdlog::warn("scheduler: no longer the leader ({}); standing by", why);
}

Task<void> Scheduler::Run() {
  for (const auto& job : jobs_) {
    spdlog::info("scheduler: {} {}{}", job.kind, job.schedule.Describe(),
                 job.at_startup ? " and at start-up" : "");
  }
  while (!stopping_) {
    if (!leading_) {
      try {
        if (co_await store_.TryLead()) co_await BecomeLeader();
      } catch (const std::exception& e) {
        spdlog::warn("scheduler: cannot try for the lead: {}", e.what());
        LoseLead("database error");
      }
    }
    if (leading_) {
      bool failed = false;
      try {
        if (!co_await EnqueueDue()) LoseLead("the lock is not held");
      } catch (const std::exception& e) {
        spdlog::error("scheduler: {}", e.what());
        failed = true;
      }
      if (failed) {
        // A broken connection has released the lock; anything else leaves the lead as it is.
        bool still = false;
        try {
          still = co_await store_.Leading();
        } catch (const std::exception&) {
        }
        if (!still) LoseLead("database error");
      }
    }
    if (stopping_) break;
    co_await Sleep(leading_ ? options_.tick : options_.standby_retry);
  }
  if (leading_) {
    try {
      co_await store_.Resign();
      spdlog::info("scheduler: stopped; gave up the lead");
    } catch (const std::exception& e) {
      spdlog::warn("scheduler: stopped; cannot give up the lead ({}): it ends with the connection",
                   e.what());
    }
    leading_ = false;
  } else {
    spdlog::info("scheduler: stopped");
  }
}

Task<void> Scheduler::BecomeLeader() {
  leading_ = true;
  ++terms_;
  spdlog::info("scheduler: leading");
  for (const auto& job : jobs_) {
    if (!job.at_startup) continue;
    if (!co_await EnqueueStartup(job)) {
      LoseLead("the lock is not held");
      co_return;
    }
  }
}

Task<bool> Scheduler::EnqueueDue() {
  const TimePoint now = clock_.Now();
  // Also notices a lost connection between slots.
  if (!co_await store_.Leading()) co_return false;
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    const TimePoint slot = jobs_[i].schedule.SlotAt(now);
    if (settled_[i] == slot) continue;
    if (co_await EnqueueSlot(jobs_[i], slot) == SlotClaim::kNotLeader) co_return false;
    settled_[i] = slot;
  }
  co_return true;
}

Task<SlotClaim> Scheduler::EnqueueSlot(const ScheduledJob& job, TimePoint slot) {
  std::unique_ptr<services::Transaction> tx = co_await store_.Begin();
  const SlotClaim claim = co_await store_.ClaimSlot(*tx, job.kind, slot);
  if (claim != SlotClaim::kClaimed) co_return claim;
  const services::NewJob new_job = NewJobOf(job, SlotKey(job.kind, slot));
  const std::optional<std::int64_t> id = co_await queue_.Enqueue(*tx, new_job);
  co_await tx->Commit();
  if (id) {
    ++enqueued_;
    spdlog::info("scheduler: enqueued {} (job {}) for {}", job.kind, *id, IsoUtc(slot));
  } else {
    spdlog::warn("scheduler: a job keyed {} was already pending", *new_job.unique_key);
  }
  co_return claim;
}

Task<bool> Scheduler::EnqueueStartup(const ScheduledJob& job) {
  std::unique_ptr<services::Transaction> tx = co_await store_.Begin();
  if (!co_await store_.Leading(*tx)) co_return false;
  const services::NewJob new_job = NewJobOf(job, StartupKey(job.kind));
  const std::optional<std::int64_t> id = co_await queue_.Enqueue(*tx, new_job);
  co_await tx->Commit();
  if (id) {
    ++enqueued_;
    spdlog::info("scheduler: enqueued {} (job {}) at start-up", job.kind, *id);
  } else {
    spdlog::info("scheduler: a start-up {} job is still pending", job.kind);
  }
  co_return true;
}

}  // namespace market::jobs
