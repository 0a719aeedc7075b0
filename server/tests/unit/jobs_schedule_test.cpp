// The scheduler's slot arithmetic: pure functions of a UTC instant.
#include "jobs/schedule.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "jobs/scheduler.hpp"

namespace market::jobs {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// A UTC instant from its calendar fields.
TimePoint Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0,
              milliseconds extra = 0ms) {
  const sys_days date = year{y} / month{mo} / day{d};
  return TimePoint(date + hours(h) + minutes(mi) + seconds(s) + extra);
}

TEST(JobsSchedule, EveryMinuteSlotStartsAtTheTopOfTheMinute) {
  const Schedule schedule = Schedule::Every(1min);
  EXPECT_EQ(schedule.SlotAt(Utc(2026, 11, 29, 18, 49, 37, 250ms)), Utc(2026, 11, 29, 18, 49));
  EXPECT_EQ(schedule.SlotAt(Utc(2026, 11, 29, 18, 49)), Utc(2026, 11, 29, 18, 49));
  EXPECT_EQ(schedule.SlotAt(Utc(2026, 11, 29, 18, 49, 59, 999ms)), Utc(2026, 11, 29, 18, 49));
  EXPECT_EQ(schedule.NextAfter(Utc(2026, 11, 29, 18, 49, 37)), Utc(2026, 11, 29, 18, 50));
  EXPECT_EQ(schedule.NextAfter(Utc(2026, 11, 29, 18, 49)), Utc(2026, 11, 29, 18, 50))
      << "an instant on a slot's start is in that slot; the next one is a period later";
}

TEST(JobsSchedule, EveryFiveMinutesIsAlignedToTheClock) {
  const Schedule schedule = Schedule::Every(5min);
  EXPECT_EQ(schedule.SlotAt(Utc(2026, 11, 29, 18, 4, 59)), Utc(2026, 11, 29, 18, 0));
  EXPECT_EQ(schedule.SlotAt(Utc(2026, 11, 29, 18, 5, 0)), Utc(2026, 11, 29, 18, 5));
  EXPECT_EQ(schedule.NextAfter(Utc(2026, 11, 29, 23, 58)), Utc(2026, 11, 30, 0, 0));
}

TEST(JobsSchedule, HourlyRollsOverDaysMonthsAndYears) {
  const Schedule schedule = Schedule::Every(1h);
  EXPECT_EQ(schedule.SlotAt(Utc(2026, 12, 31, 23, 59, 59)), Utc(2026, 12, 31, 23));
  EXPECT_EQ(schedule.NextAfter(Utc(2026, 12, 31, 23, 59, 59)), Utc(2027, 1, 1, 0));
  EXPECT_EQ(schedule.NextAfter(Utc(2028, 2, 28, 23, 30)), Utc(2028, 2, 29, 0)) << "leap day";
}

TEST(JobsSchedule, DailyAtThreeUtcIsTodayAfterThreeAndYesterdayBefore) {
  const Schedule schedule = Schedule::DailyAt(3h);
  EXPECT_EQ(schedule.SlotAt(Utc(2026, 11, 29, 18, 49)), Utc(2026, 11, 29, 3));
  EXPECT_EQ(schedule.SlotAt(Utc(2026, 11, 29, 2, 59, 59)), Utc(2026, 11, 28, 3));
  EXPECT_EQ(schedule.SlotAt(Utc(2026, 11, 29, 3)), Utc(2026, 11, 29, 3));
  EXPECT_EQ(schedule.NextAfter(Utc(2026, 11, 29, 2, 59, 59)), Utc(2026, 11, 29, 3));
  EXPECT_EQ(schedule.NextAfter(Utc(2026, 11, 29, 3)), Utc(2026, 11, 30, 3));
  EXPECT_EQ(schedule.NextAfter(Utc(2026, 3, 1, 12)), Utc(2026, 3, 2, 3));
}

TEST(JobsSchedule, DailyTimeWithMinutes) {
  const Schedule schedule = Schedule::DailyAt(23h, 45min);
  EXPECT_EQ(schedule.SlotAt(Utc(2027, 1, 1, 0, 10)), Utc(2026, 12, 31, 23, 45));
  EXPECT_EQ(schedule.NextAfter(Utc(2027, 1, 1, 0, 10)), Utc(2027, 1, 1, 23, 45));
}

TEST(JobsSchedule, EveryDayHasTwentyFourHoursInUtcAcrossDaylightSavingDates) {
  // The nights European and US clocks change: UTC does not, so the slots stay 24 h apart.
  const Schedule schedule = Schedule::DailyAt(3h);
  for (TimePoint day :
       {Utc(2026, 3, 8, 12), Utc(2026, 3, 29, 12), Utc(2026, 10, 25, 12), Utc(2026, 11, 1, 12)}) {
    EXPECT_EQ(schedule.NextAfter(day) - schedule.SlotAt(day), 24h);
    EXPECT_EQ(schedule.SlotAt(day), floor<days>(day) + 3h);
  }
}

TEST(JobsSchedule, SlotsBeforeTheEpochRoundDown) {
  const Schedule schedule = Schedule::Every(1h);
  EXPECT_EQ(schedule.SlotAt(Utc(1969, 12, 31, 22, 30)), Utc(1969, 12, 31, 22));
  EXPECT_EQ(Schedule::DailyAt(3h).SlotAt(Utc(1970, 1, 1, 1)), Utc(1969, 12, 31, 3));
}

TEST(JobsSchedule, ConsecutiveSlotsAreOnePeriodApartAndContainTheirInstants) {
  const Schedule schedule = Schedule::Every(7s);
  TimePoint t = Utc(2026, 11, 29, 18, 0, 0, 123ms);
  for (int i = 0; i < 1000; ++i, t += 1234ms) {
    const TimePoint slot = schedule.SlotAt(t);
    ASSERT_LE(slot, t);
    ASSERT_GT(schedule.NextAfter(t), t);
    ASSERT_EQ(schedule.NextAfter(t) - slot, 7s);
    ASSERT_EQ(slot.time_since_epoch() % 7s, 0s);
  }
}

TEST(JobsSchedule, RefusesEmptyPeriodsAndImpossibleTimes) {
  EXPECT_THROW(Schedule::Every(0s), std::invalid_argument);
  EXPECT_THROW(Schedule::Every(-5s), std::invalid_argument);
  EXPECT_THROW(Schedule::DailyAt(24h), std::invalid_argument);
  EXPECT_THROW(Schedule::DailyAt(3h, 60min), std::invalid_argument);
  EXPECT_THROW(Schedule::DailyAt(-1h), std::invalid_argument);
}

TEST(JobsSchedule, DescribesItself) {
  EXPECT_EQ(Schedule::Every(1min).Describe(), "every 1m");
  EXPECT_EQ(Schedule::Every(5min).Describe(), "every 5m");
  EXPECT_EQ(Schedule::Every(1h).Describe(), "every 1h");
  EXPECT_EQ(Schedule::Every(90s).Describe(), "every 90s");
  EXPECT_EQ(Schedule::DailyAt(3h).Describe(), "daily at 03:00 UTC");
  EXPECT_EQ(Schedule::DailyAt(0h).Describe(), "every 1d");
}

TEST(JobsSchedule, SlotKeyNamesTheKindAndTheSlotStartInUtc) {
  EXPECT_EQ(SlotKey("cleanup", Utc(2026, 11, 29, 18)), "sched:cleanup:2026-11-29T18:00:00Z");
  EXPECT_EQ(SlotKey("purge_inactive", Utc(2027, 1, 2, 3, 4, 5)),
            "sched:purge_inactive:2027-01-02T03:04:05Z");
  EXPECT_EQ(SlotKey("x", Utc(2026, 11, 29, 18, 0, 0, 999ms)), "sched:x:2026-11-29T18:00:00Z");
  EXPECT_EQ(StartupKey("reconcile_stock"), "sched:reconcile_stock:startup");
}

TEST(JobsSchedule, DistinctSlotsHaveDistinctKeys) {
  const Schedule schedule = Schedule::Every(1s);
  std::set<std::string> keys;
  TimePoint t = Utc(2026, 11, 29, 23, 59);
  for (int i = 0; i < 180; ++i, t += 1s) keys.insert(SlotKey("k", schedule.SlotAt(t)));
  EXPECT_EQ(keys.size(), 180u);
}

TEST(JobsSchedule, MarketplaceScheduleDeclaresTheMaintenanceAndStrandedDeliveryJobs) {
  const std::vector<ScheduledJob> schedule = MarketplaceSchedule();
  EXPECT_NO_THROW(CheckSchedule(schedule));
  auto find = [&schedule](std::string_view kind) -> const ScheduledJob& {
    for (const auto& job : schedule)
      if (job.kind == kind) return job;
    throw std::runtime_error("not scheduled: " + std::string(kind));
  };
  EXPECT_EQ(find("expire_orders").schedule.Describe(), "every 1m");
  EXPECT_EQ(find("reconcile_stock").schedule.Describe(), "every 5m");
  EXPECT_TRUE(find("reconcile_stock").at_startup);
  EXPECT_FALSE(find("expire_orders").at_startup);
  EXPECT_EQ(find("cleanup").schedule.Describe(), "every 1h");
  EXPECT_EQ(find("purge_inactive").schedule.Describe(), "daily at 03:00 UTC");
  // Deliveries are queued when they fail; the periodic job only finds those whose process died.
  EXPECT_EQ(find("deliver_webhooks.stranded").schedule.Describe(), "every 1m");
  EXPECT_TRUE(find("deliver_webhooks.stranded").at_startup);
  EXPECT_EQ(find("reconcile_payments").schedule.Describe(), "every 5m");
  EXPECT_EQ(schedule.size(), 6u);
}

TEST(JobsSchedule, CheckRefusesInvalidAndDuplicateKinds) {
  std::vector<ScheduledJob> schedule;
  schedule.push_back({.kind = "a", .schedule = Schedule::Every(1s)});
  schedule.push_back({.kind = "a", .schedule = Schedule::Every(2s)});
  EXPECT_THROW(CheckSchedule(schedule), std::invalid_argument);
  schedule.pop_back();
  schedule.push_back({.kind = "Not Valid", .schedule = Schedule::Every(2s)});
  EXPECT_THROW(CheckSchedule(schedule), std::invalid_argument);
}

}  // namespace
}  // namespace market::jobs
